#!/usr/bin/env bash
# Stop the servers started by scripts/serve.sh (from another terminal): SIGTERM to the
# supervisor, which stops every server; anything still there after STOP_WAIT seconds is killed
# with its process group.
cd "$(dirname "$0")/.."
RUN_DIR=${RUN_DIR:-var/run}
STOP_WAIT=${STOP_WAIT:-60}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
found=0
if alive "$RUN_DIR/supervisor.pid"; then
  found=1
  pid=$(cat "$RUN_DIR/supervisor.pid")
  echo "stopping the supervisor (pid $pid) and its servers"
  kill -TERM "$pid"
  for _ in $(seq 1 $((STOP_WAIT * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
fi
for name in rasa actions console supervisor; do
  f="$RUN_DIR/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    found=1
    echo "killing $name (pid $pid) and its process group"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
[ $found = 1 ] || echo "nothing is running"
