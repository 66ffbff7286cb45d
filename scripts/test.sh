#!/usr/bin/env bash
# Every test: lint, unit tests (knowledge, actions), Rasa data validation, end to end through
# the real servers. Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not e2e"`).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "[test] ruff"
.venv/kb/bin/ruff check knowledge actions bot benchmarks console tests scripts deploy
bash scripts/system-packages.sh  # chromium, redis-server, nginx when missing
echo "[test] pytest: Rasa channels and NLU components (Rasa venv)"
.venv/rasa/bin/python -m pytest -q -p no:cacheprovider tests/channels tests/bot/rasa_venv
echo "[test] pytest: knowledge, actions, dialogue, end to end (knowledge venv)"
exec .venv/kb/bin/python -m pytest -p no:cacheprovider --ignore=tests/channels \
  --ignore=tests/bot/rasa_venv "$@"
