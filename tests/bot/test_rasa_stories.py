"""The dialogue on test stories: train if needed (scripts/train.sh prints the model), then
`rasa test core --e2e --fail-on-prediction-errors` on tests/stories: the NLU model must find
the intents and entities of the user messages, the policies the actions."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}


@pytest.fixture(scope="module")
def rasa_model() -> str:
    done = subprocess.run(["bash", "scripts/train.sh"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_test_stories_pass(rasa_model, tmp_path):
    done = subprocess.run(
        [str(ROOT / ".venv" / "rasa" / "bin" / "rasa"), "test", "core", "--e2e",
         "--model", rasa_model, "--stories", "tests/stories", "--fail-on-prediction-errors",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=ENV,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    failed = tmp_path / "failed_test_stories.yml"
    assert not failed.exists() or "story:" not in failed.read_text(), failed.read_text()
