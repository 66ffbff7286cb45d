"""Killing `kb ingest` with SIGKILL at any moment leaves the previous index serving."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.index.store import read_index

ROOT = Path(__file__).resolve().parents[2]


def _kb(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "knowledge.cli", *args], cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, **kwargs)


@pytest.fixture
def corpus(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    (first / "a.txt").write_text("Kế hoạch kiểm tra cải cách hành chính năm 2021 tại Sở Tư pháp.")
    big = tmp_path / "big"
    big.mkdir()
    for i in range(60):
        (big / f"doc-{i:03d}.txt").write_text(
            f"Văn bản số {i}/KH-UBND về cải cách hành chính. " * 25, encoding="utf-8")
    return first, big


@pytest.mark.parametrize("delay", [2.0, 7.0])
def test_sigkill_mid_ingest_keeps_the_previous_index(tmp_path, corpus, model_dir, delay):
    first, big = corpus
    index = tmp_path / "index"
    done = _kb("ingest", str(first), "--index", str(index), "--model", str(model_dir), "-q")
    assert done.wait(timeout=300) == 0
    before = read_index(index)

    proc = _kb("ingest", str(big), "--index", str(index), "--model", str(model_dir), "-q",
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    after = read_index(index)  # never half-written: either the old or a complete new version
    assert after.version == before.version or finished or len(after.documents) == 61
    if after.version == before.version:
        assert sorted(after.documents) == ["a.txt"]
    assert len(after.embeddings) == len(after.chunks)

    # the next run completes and the index serves every document
    again = _kb("ingest", str(big), "--index", str(index), "--model", str(model_dir), "-q")
    assert again.wait(timeout=600) == 0
    final = read_index(index)
    assert len(final.documents) == 61
    assert len(final.embeddings) == len(final.chunks)
