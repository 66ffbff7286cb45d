"""Uploaded files are read in a separate process with CPU-time and memory limits.

An editor's upload is treated as hostile: each one is read by a fresh child process (forked
from a small server process that has the readers' modules imported, so a child starts in a few
milliseconds) under ``RLIMIT_CPU`` and ``RLIMIT_AS``, on top of the readers' own
:class:`~knowledge.ingest.formats.base.ExtractLimits`. A child that runs out of CPU time or
memory, or crashes, takes nothing with it: the console gets a :class:`SandboxError` and the
next upload gets a fresh child. Only the extracted text and metadata come back.

The fork server is :mod:`multiprocessing`'s own (``forkserver`` context): started on first use,
restarted by the standard library if it dies, one per console worker process.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import time
from dataclasses import dataclass
from enum import Enum
from multiprocessing.connection import Connection
from pathlib import Path

from knowledge.ingest.loaders import (
    DEFAULT_LIMITS,
    Extracted,
    ExtractLimits,
    Limit,
    LimitExceeded,
    LoadError,
    extract_file,
    make_document,
)

logger = logging.getLogger(__name__)

PRELOAD = ["console.sandbox_preload"]
"""Imported once by the fork server, so that every child starts with them."""
_MEMORY_EXIT = 86  # the child's exit status when it could not even report a MemoryError


class Failure(Enum):
    """How a reading child failed without a reader's own error."""

    CPU = "cpu"  # over its CPU time (or its wall-clock allowance)
    MEMORY = "memory"  # over its address-space limit
    CRASH = "crash"  # died otherwise (a signal, a bug)


class SandboxError(LoadError):
    """The child reading a file ran out of CPU time or memory, or crashed."""

    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class SandboxLimits:
    """
    Attributes:
        cpu_seconds: CPU time of one child (``RLIMIT_CPU``; ``SIGKILL`` 2 s later).
        memory_mb: address space of one child (``RLIMIT_AS``), libraries included (about
            150 MB of it is the readers' modules).
        wall_seconds: how long the console waits for a child before killing it (a busy
            machine gives a child less than one CPU): by default 4 × ``cpu_seconds`` + 10.
    """

    cpu_seconds: int = 30
    memory_mb: int = 1024
    wall_seconds: float = 0

    def __post_init__(self) -> None:
        if self.cpu_seconds < 1:
            raise ValueError(f"cpu_seconds must be >= 1, got {self.cpu_seconds}")
        if self.memory_mb < 128:
            raise ValueError(f"memory_mb must be >= 128, got {self.memory_mb}")
        if self.wall_seconds < 0:
            raise ValueError(f"wall_seconds must be >= 0, got {self.wall_seconds}")
        if not self.wall_seconds:
            object.__setattr__(self, "wall_seconds", 4.0 * self.cpu_seconds + 10)


def _limit_self(limits: SandboxLimits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 2))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _read_in_child(conn: Connection, path: str, limits: SandboxLimits,
                   extract_limits: ExtractLimits) -> None:
    """The child: limit itself, read the file, send back one tuple, exit."""
    import os

    try:
        _limit_self(limits)
        extracted = extract_file(Path(path), extract_limits)
        make_document("upload", extracted.text, extracted.fields, extract_limits)  # no text?
        conn.send(("ok", extracted.text, extracted.fields, extracted.notes))
    except LimitExceeded as exc:
        conn.send(("limit", exc.limit.value, exc.allowed, exc.found, str(exc)))
    except LoadError as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        try:
            conn.send(("memory",))
        except MemoryError:
            os._exit(_MEMORY_EXIT)
    except Exception as exc:  # a reader's bug: reported, never a crash of the console
        conn.send(("bug", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class IsolatedExtractor:
    """Reads one file at a time in a fresh, limited child process.

    Example::

        extractor = IsolatedExtractor(SandboxLimits(cpu_seconds=30, memory_mb=1024))
        extracted = extractor.extract(Path("upload.docx"))  # raises LoadError subclasses
    """

    def __init__(self, limits: SandboxLimits | None = None,
                 extract_limits: ExtractLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits or SandboxLimits()
        self.extract_limits = extract_limits
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)

    def start(self) -> None:
        """Start the fork server (and its warm-up) now rather than on the first upload."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def extract(self, path: Path) -> Extracted:
        """Text, stated metadata and notes of ``path``, read by a child process.

        Raises:
            LimitExceeded: over one of the readers' limits.
            SandboxError: the child ran out of CPU time or memory, or crashed.
            LoadError: the file is unreadable (the reader's message).
        """
        started = time.perf_counter()
        receiver, sender = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_read_in_child, args=(sender, str(path), self.limits, self.extract_limits),
            name="console-read-upload", daemon=True)
        try:
            child.start()
        except OSError as exc:  # no process could be made (limits of the machine)
            receiver.close()
            sender.close()
            logger.error("could not start a process to read %s: %s", path.name, exc)
            raise SandboxError(Failure.CRASH, f"could not start the reader: {exc}") from exc
        sender.close()
        message = None
        try:
            if receiver.poll(self.limits.wall_seconds):
                message = receiver.recv()
        except EOFError:  # the child died before it could answer
            message = None
        finally:
            receiver.close()
            if message is None and child.is_alive():
                child.kill()
            child.join(10)
        elapsed = time.perf_counter() - started
        logger.info("read %s in a child process in %.3f s (exit %s)", path.name, elapsed,
                    child.exitcode)
        if message is None:
            raise self._failure(child.exitcode, elapsed)
        kind, *rest = message
        if kind == "ok":
            text, fields, notes = rest
            return Extracted(text, fields, tuple(notes))
        if kind == "limit":
            limit, allowed, found, text = rest
            raise LimitExceeded(Limit(limit), allowed, found, text)
        if kind == "memory":
            raise self._failure(_MEMORY_EXIT, elapsed)
        if kind == "bug":
            logger.error("the reader failed on %s: %s", path.name, rest[0])
            raise SandboxError(Failure.CRASH, f"the reader failed: {rest[0]}")
        raise LoadError(rest[0])

    def _failure(self, exitcode: int | None, elapsed: float) -> SandboxError:
        if exitcode in (-signal.SIGXCPU, -signal.SIGKILL) or exitcode is None or (
                elapsed >= self.limits.wall_seconds):
            logger.warning("reading an upload was stopped after %.1f s (exit %s): over %d s of "
                           "CPU time", elapsed, exitcode, self.limits.cpu_seconds)
            return SandboxError(Failure.CPU, f"reading the file took more than "
                                             f"{self.limits.cpu_seconds} s of CPU time")
        if exitcode == _MEMORY_EXIT:
            logger.warning("reading an upload ran out of memory (%d MB)", self.limits.memory_mb)
            return SandboxError(Failure.MEMORY, f"reading the file needed more than "
                                                f"{self.limits.memory_mb} MB of memory")
        logger.error("the process reading an upload died (exit %s)", exitcode)
        return SandboxError(Failure.CRASH, f"the reader stopped unexpectedly (exit {exitcode})")
