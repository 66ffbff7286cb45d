"""Fixtures shared by the end-to-end tests (real servers)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# bot/endpoints.yml makes Rasa send this shared secret to the action server (Rasa refuses to
# start when it is unset). The launcher provides one; tests that start servers get their own.
os.environ.setdefault("ACTION_SERVER_TOKEN", secrets.token_hex(24))


@pytest.fixture(scope="session")
def rasa_model() -> str:
    """Path of the trained Rasa model (scripts/train.sh trains only when its inputs changed)."""
    done = subprocess.run(["bash", "scripts/train.sh"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, model_dir) -> Path:
    """A fresh index of the seed documents (data/documents)."""
    index = tmp_path_factory.mktemp("e2e") / "index"
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", "data/documents",
                           "--index", str(index), "-q"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return index
