#!/usr/bin/env bash
# Start the action server and the Rasa server, wait until both answer, then wait for Ctrl-C
# (or `make stop`) and shut both down cleanly.
#   RASA_PORT (5005), ACTION_PORT (5055), KB_INDEX (var/index), RASA_TRACKER_DB (var/tracker.db)
#   KB_DOCUMENT_URL_BASE (http://$HOST:$CONSOLE_PORT): where the "Nguồn:" links of the answers
#   point (the console's public /van-ban/<id> pages); set it to the address citizens reach.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
CONSOLE_PORT=${CONSOLE_PORT:-8080}  # "off" = no console
HOST=${HOST:-127.0.0.1}
RUN_DIR=${RUN_DIR:-var/run}
LOG_DIR=${LOG_DIR:-var/logs}
MODEL=${1:?usage: serve.sh MODEL.tar.gz}
mkdir -p "$RUN_DIR" "$LOG_DIR"

export KB_INDEX=${KB_INDEX:-$ROOT/var/index}
export RASA_TRACKER_DB=${RASA_TRACKER_DB:-$ROOT/var/tracker.db}
export KB_QUESTION_LOG=${KB_QUESTION_LOG:-$ROOT/var/questions.db}
export ACTION_SERVER_HOST=127.0.0.1 ACTION_SERVER_PORT=$ACTION_PORT
if [ -z "${KB_DOCUMENT_URL_BASE:-}" ] && [ "$CONSOLE_PORT" != off ]; then
  case "$HOST" in 0.0.0.0|::) LINK_HOST=$(hostname) ;; *) LINK_HOST=$HOST ;; esac
  export KB_DOCUMENT_URL_BASE="http://$LINK_HOST:$CONSOLE_PORT"  # the console serves /van-ban/<id>
fi
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

log() { printf '\033[1;34m[run]\033[0m %s\n' "$*"; }
stop_all() {
  trap - INT TERM EXIT
  log "Stopping…"
  for name in rasa actions console; do
    if [ -f "$RUN_DIR/$name.pid" ]; then
      kill -TERM "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true
    fi
  done
  for name in rasa actions console; do
    if [ -f "$RUN_DIR/$name.pid" ]; then
      pid=$(cat "$RUN_DIR/$name.pid")
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$RUN_DIR/$name.pid"
    fi
  done
  log "Stopped."
}
trap stop_all INT TERM EXIT

for name in rasa actions console; do
  if [ -f "$RUN_DIR/$name.pid" ] && kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
    echo "error: already running ($name, pid $(cat "$RUN_DIR/$name.pid")); run 'make stop' first" >&2
    trap - INT TERM EXIT; exit 1
  fi
done

log "Starting the action server on $HOST:$ACTION_PORT (logs: $LOG_DIR/actions.log)"
.venv/kb/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" \
  >"$LOG_DIR/actions.log" 2>&1 &
echo $! > "$RUN_DIR/actions.pid"

log "Starting the Rasa server on $HOST:$RASA_PORT (loading the model takes ~60 s; logs: $LOG_DIR/rasa.log)"
.venv/rasa/bin/rasa run --model "$MODEL" --endpoints bot/endpoints.yml \
  --credentials "${RASA_CREDENTIALS:-bot/credentials.yml}" --interface "$HOST" --port "$RASA_PORT" \
  --cors "*" >"$LOG_DIR/rasa.log" 2>&1 &
echo $! > "$RUN_DIR/rasa.pid"

if [ "$CONSOLE_PORT" != off ]; then
  log "Starting the officials' console and the widget demo on $HOST:$CONSOLE_PORT (logs: $LOG_DIR/console.log)"
  .venv/kb/bin/python -m console --host "$HOST" --port "$CONSOLE_PORT" \
    --rasa-url "http://$HOST:$RASA_PORT" >"$LOG_DIR/console.log" 2>&1 &
  echo $! > "$RUN_DIR/console.pid"
fi

if [ -n "${KB_DOCUMENT_URL_BASE:-}" ]; then
  log "Answers link their source documents to $KB_DOCUMENT_URL_BASE/van-ban/…"
fi

# In the background + `wait`, so that Ctrl-C or SIGTERM during start-up stops everything at once.
.venv/kb/bin/python scripts/wait_ready.py --rasa "http://$HOST:$RASA_PORT" \
  --actions "http://127.0.0.1:$ACTION_PORT" --timeout "${READY_TIMEOUT:-300}" \
  --pids "$(cat "$RUN_DIR/rasa.pid")" "$(cat "$RUN_DIR/actions.pid")" &
if ! wait $!; then
  echo "error: the servers did not become ready; see $LOG_DIR/rasa.log and $LOG_DIR/actions.log" >&2
  tail -n 20 "$LOG_DIR/rasa.log" "$LOG_DIR/actions.log" >&2 || true
  exit 1
fi

cat <<MSG

  The assistant is running.  Ask it something:

    curl -s -XPOST http://$HOST:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
      -d '{"sender": "me", "message": "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?"}'

    Citizens' web widget (demo portal):  http://$HOST:$CONSOLE_PORT/demo
    Officials' console:                  http://$HOST:$CONSOLE_PORT/
      (add a user first: make user NAME=lan ROLE=editor)

    make shell        # chat in this terminal (another terminal)
    make stop         # or Ctrl-C here, to stop both servers

MSG
wait -n "$(cat "$RUN_DIR/rasa.pid")" "$(cat "$RUN_DIR/actions.pid")" || true
log "A server exited; see $LOG_DIR/."
