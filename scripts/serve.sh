#!/usr/bin/env bash
# Start the action server, the Rasa server and the console under supervision
# (scripts/supervise.py): wait until they answer, print "The assistant is running", restart any
# server that crashes (with backoff, logged), and stop them all on Ctrl-C / `make stop`.
#   RASA_PORT (5005), ACTION_PORT (5055), CONSOLE_PORT (8080, "off" = no console)
#   HOST (127.0.0.1): interface of Rasa and the console; 0.0.0.0 only behind a firewall/proxy
#   ACTION_SERVER_INTERFACE (127.0.0.1): interface of the action server
#   KB_INDEX (var/index), RASA_TRACKER_DB (var/tracker.db), KB_QUESTION_LOG (var/questions.db)
#   RASA_WORKERS (one per core, at most 4): Rasa's Sanic workers, each its own process and model
#     (~1.9 GB); they share the tracker store and its conversation locks (bot/lock_store.py)
#   ACTION_SERVER_TOKEN: the secret Rasa sends the action server; made once in
#     $SECRETS_DIR/action-token (mode 0600, default var/secrets beside RUN_DIR) when unset
#   KB_DOCUMENT_URL_BASE (http://$HOST:$CONSOLE_PORT): where the "Nguồn:" links of the answers
#   point (the console's public /van-ban/<id> pages); set it to the address citizens reach.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODEL=${1:?usage: serve.sh MODEL.tar.gz}
export RASA_PORT=${RASA_PORT:-5005} ACTION_PORT=${ACTION_PORT:-5055}
export CONSOLE_PORT=${CONSOLE_PORT:-8080} HOST=${HOST:-127.0.0.1}
export ACTION_SERVER_INTERFACE=${ACTION_SERVER_INTERFACE:-127.0.0.1}
export RUN_DIR=${RUN_DIR:-var/run} LOG_DIR=${LOG_DIR:-var/logs}
SECRETS_DIR=${SECRETS_DIR:-$(dirname "$RUN_DIR")/secrets}
mkdir -p "$RUN_DIR" "$LOG_DIR"

export KB_INDEX=${KB_INDEX:-$ROOT/var/index}
export RASA_TRACKER_DB=${RASA_TRACKER_DB:-$ROOT/var/tracker.db}
export KB_QUESTION_LOG=${KB_QUESTION_LOG:-$ROOT/var/questions.db}
# Rasa parses every message on one event loop: one process uses one core at most. Its Sanic
# workers (supervise.py gives Rasa SANIC_WORKERS=$RASA_WORKERS; Rasa allows them with the shared
# lock store of bot/endpoints.yml) use the other cores.
CORES=$(nproc 2>/dev/null || echo 1)
export RASA_WORKERS=${RASA_WORKERS:-$(( CORES < 4 ? CORES : 4 ))}
case "$RASA_WORKERS" in ''|*[!0-9]*|0) echo "error: RASA_WORKERS must be a whole number >= 1" >&2; exit 2 ;; esac
# each worker writes rasa-worker-<pid>.json here once warmed up (bot/warm_up.py)
case "$RUN_DIR" in /*) export RASA_WARM_UP_DIR=$RUN_DIR/rasa-warm-up ;;
  *) export RASA_WARM_UP_DIR=$ROOT/$RUN_DIR/rasa-warm-up ;; esac
# where Rasa finds the action server (bot/endpoints.yml)
case "$ACTION_SERVER_INTERFACE" in
  0.0.0.0|::) export ACTION_SERVER_HOST=127.0.0.1 ;;
  *) export ACTION_SERVER_HOST=$ACTION_SERVER_INTERFACE ;;
esac
export ACTION_SERVER_PORT=$ACTION_PORT
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  if [ ! -s "$SECRETS_DIR/action-token" ]; then
    (umask 077 && mkdir -p "$SECRETS_DIR" \
      && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$SECRETS_DIR/action-token")
  fi
  ACTION_SERVER_TOKEN=$(cat "$SECRETS_DIR/action-token")
  export ACTION_SERVER_TOKEN
fi
if [ -z "${KB_DOCUMENT_URL_BASE:-}" ] && [ "$CONSOLE_PORT" != off ]; then
  case "$HOST" in 0.0.0.0|::) LINK_HOST=$(hostname) ;; *) LINK_HOST=$HOST ;; esac
  export KB_DOCUMENT_URL_BASE="http://$LINK_HOST:$CONSOLE_PORT"  # the console serves /van-ban/<id>
fi
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

for name in supervisor rasa actions console; do
  if [ -f "$RUN_DIR/$name.pid" ] && kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
    echo "error: already running ($name, pid $(cat "$RUN_DIR/$name.pid")); run 'make stop' first" >&2
    exit 1
  fi
done
if [ -n "${KB_DOCUMENT_URL_BASE:-}" ]; then
  echo "[run] Answers link their source documents to $KB_DOCUMENT_URL_BASE/van-ban/…"
fi
echo "[run] Starting the action server ($ACTION_SERVER_INTERFACE:$ACTION_PORT), Rasa ($HOST:$RASA_PORT, $RASA_WORKERS worker(s), loading the model takes ~60-95 s)$([ "$CONSOLE_PORT" != off ] && echo " and the console ($HOST:$CONSOLE_PORT)"); logs in $LOG_DIR/"
exec .venv/kb/bin/python scripts/supervise.py "$MODEL"
