"""Fixtures shared by the end-to-end tests (real servers)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rasa_model() -> str:
    """Path of the trained Rasa model (scripts/train.sh trains only when its inputs changed)."""
    done = subprocess.run(["bash", "scripts/train.sh"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]
