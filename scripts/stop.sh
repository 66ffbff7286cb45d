#!/usr/bin/env bash
# Stop servers started by scripts/serve.sh (from another terminal).
cd "$(dirname "$0")/.."
RUN_DIR=${RUN_DIR:-var/run}
found=0
for name in rasa actions console; do
  f="$RUN_DIR/$name.pid"
  [ -f "$f" ] || continue
  found=1
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null && echo "stopping $name (pid $pid)"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
done
[ $found = 1 ] || echo "nothing is running"
