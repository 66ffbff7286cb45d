#!/usr/bin/env bash
# Train the Rasa model only when config, domain or training data changed.
# Prints the path of the model to use.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${RASA_MODELS_DIR:-var/rasa-models}
# (convert_e5.py builds the e5 model folder the NLU's sentence featurizer reads)
INPUTS=(config.yml bot/domain.yml data/nlu.yml data/rules.yml data/stories.yml requirements/rasa.txt
        requirements/rasa-nlu.txt bot/nlu/*.py knowledge/embedding/convert_e5.py)
HASH=$(cat "${INPUTS[@]}" | sha256sum | cut -c1-16)
MODEL="$MODELS/cchc-$HASH.tar.gz"
if [ -f "$MODEL" ]; then
  echo "[train] Rasa model up to date ($MODEL)" >&2
else
  echo "[train] Training the Rasa model (data, config or domain changed; ~6-7 min on 2 cores)" >&2
  PARTIAL="$MODELS/.partial-$HASH"
  rm -rf "$PARTIAL" && mkdir -p "$PARTIAL"
  mkdir -p var/logs
  # RASA_MAX_CACHE_SIZE=0: Rasa's training cache is keyed on config, not on our tokenizer's code
  if ! RASA_TELEMETRY_ENABLED=false RASA_MAX_CACHE_SIZE=0 .venv/rasa/bin/rasa train --config config.yml \
      --domain bot/domain.yml --data data/nlu.yml data/rules.yml data/stories.yml \
      --out "$PARTIAL" --fixed-model-name "cchc-$HASH" > var/logs/train.log 2>&1; then
    tail -n 30 var/logs/train.log >&2
    echo "[train] error: rasa train failed; full log in var/logs/train.log" >&2
    exit 1
  fi
  mv "$PARTIAL/cchc-$HASH.tar.gz" "$MODEL"  # only a complete model ever gets the final name
  rm -rf "$PARTIAL"
  find "$MODELS" -name 'cchc-*.tar.gz' ! -name "cchc-$HASH.tar.gz" -mmin +1 -delete 2>/dev/null || true
fi
echo "$MODEL"
