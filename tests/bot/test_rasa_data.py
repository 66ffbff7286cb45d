"""`rasa data validate` on the real domain, data and config (in the Rasa venv)."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rasa_data_validate_is_clean():
    done = subprocess.run(
        [str(ROOT / ".venv" / "rasa" / "bin" / "rasa"), "data", "validate", "--fail-on-warnings",
         "--domain", "bot/domain.yml", "--config", "config.yml",
         "--data", "data/nlu.yml", "data/rules.yml", "data/stories.yml"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
