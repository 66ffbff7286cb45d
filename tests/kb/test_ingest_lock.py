"""The index's writer lock (knowledge.index.store.ingest_lock): `kb ingest` and the console's
uploads, in any threads and processes, never publish two versions built from the same old one,
so no ingest silently drops another's documents."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from knowledge.index.store import LOCK_FILE, ingest_lock, read_index

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import fcntl, sys
with open(sys.argv[1], "a+b") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("busy")
    else:
        print("free")
"""


def _other_process_sees(index_dir: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, str(index_dir / LOCK_FILE)],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_other_processes_wait_while_an_ingest_holds_the_lock(tmp_path):
    with ingest_lock(tmp_path):
        assert _other_process_sees(tmp_path) == "busy"
        with ingest_lock(tmp_path):  # the holder may enter again (console → Indexer)
            assert _other_process_sees(tmp_path) == "busy"
        assert _other_process_sees(tmp_path) == "busy"
    assert _other_process_sees(tmp_path) == "free"


def test_other_threads_wait_and_are_told(tmp_path):
    order: list[str] = []
    told = threading.Event()
    inside = threading.Event()

    def second() -> None:
        with ingest_lock(tmp_path, waiting=told.set):
            order.append("second")

    with ingest_lock(tmp_path):
        inside.set()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(timeout=30)
    assert order == ["first done", "second"]
    assert not told.is_set()  # threads of one process queue on the mutex, not on the file


def test_two_ingests_at_once_keep_both_documents(tmp_path, embedder, analyzer):
    """Without the lock both would read the empty index and the later write would drop the
    other's document."""
    from knowledge.config import KnowledgeConfig
    from knowledge.ingest.indexer import Indexer

    docs = {}
    for name, text in (("a.txt", "QUYẾT ĐỊNH\nVề việc kiểm tra công tác cải cách hành chính "
                                 "năm 2019 tại Sở Tư pháp."),
                       ("b.txt", "KẾ HOẠCH\nTuyên truyền cải cách hành chính năm 2020 trên "
                                 "địa bàn tỉnh.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        docs[name] = tmp_path / name
    cfg = KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path / "index")
    errors: list[BaseException] = []

    def ingest(path: Path) -> None:
        try:
            Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest([path])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(p,)) for p in docs.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert sorted(read_index(cfg.index_dir).documents) == ["a.txt", "b.txt"]


def test_kb_ingest_waits_for_a_writer_of_another_process(tmp_path):
    """The CLI reports that it waits, then adds its document once the other writer is done."""
    index = tmp_path / "index"
    doc = tmp_path / "c.txt"
    doc.write_text("CHỈ THỊ\nVề tăng cường kỷ luật hành chính năm 2021.", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom knowledge.index.store import ingest_lock\n"
         "with ingest_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(4)\n",
         str(index)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", str(doc),
                               "--index", str(index)], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert time.monotonic() - started >= 2
        assert "waiting for another ingest" in done.stdout + done.stderr
    finally:
        holder.wait(timeout=60)
    assert list(read_index(index).documents) == ["c.txt"]
