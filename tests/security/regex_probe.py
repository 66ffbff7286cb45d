"""Regex probe: run every regular expression that meets user text against hostile 100 KB inputs.

A pattern that backtracks quadratically (or worse) on some input freezes the server's event loop
for seconds to minutes on one long message (``"1a" * 8000`` once took Rasa 57 s). This harness
finds such patterns by timing them, not by reading them:

1. it collects patterns: every compiled ``re.Pattern`` (and ``regex`` pattern) bound at module
   level in the given modules, also inside module-level tuples, lists, dicts and sets; plus
   extra specs: ``"module:ATTR"`` (a string attribute, compiled; e.g. a default of a config),
   ``"nlu-data:data/nlu.yml"`` (the regexes and lookup tables Rasa's RegexFeaturizer and
   RegexEntityExtractor build from training data; needs the Rasa venv);
2. it runs each pattern over each input of :func:`adversarial_inputs` with ``finditer`` to the
   end, in a child process (the interpreter you choose: the Rasa venv for ``bot/``, the
   knowledge venv for ``knowledge/``), one cell at a time under a deadline; a cell that passes
   the deadline is reported as timed out and the child is restarted after it.

Use from a test::

    results = probe(["knowledge.answering.question"], python=sys.executable)
    assert not slow(results, seconds=0.5)

or from the command line (a table, slowest first)::

    .venv/kb/bin/python tests/security/regex_probe.py knowledge.answering.question
    .venv/kb/bin/python tests/security/regex_probe.py --python .venv/rasa/bin/python \\
        --package bot bot.nlu.underthesea_tokenizer:DEFAULT_PROTECTED nlu-data:data/nlu.yml
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZE = 100_000
DEFAULT_CELL_TIMEOUT = 10.0

# Units repeated to the input size: runs of one class, alternations of classes that patterns
# often combine, Vietnamese text, near-misses (a run that fails only at its very end).
_UNITS: dict[str, str] = {
    "digits": "1",
    "letters": "a",
    "upper": "A",
    "spaces": " ",
    "newlines": "\n",
    "space-newline": " \n",
    "punctuation": ".,;:!?",
    "dots": ".",
    "slashes": "/",
    "dashes": "-",
    "digit-letter": "1a",
    "digit-slash": "1/",
    "digit-dash": "1-",
    "digit-dot": "1.",
    "digit-comma": "1,",
    "digit-space": "1 ",
    "letter-space": "a ",
    "upper-amp": "TT&",
    "upper-d": "Đ",
    "doc-number": "1331/QĐ-UBND",
    "doc-number-spaced": "1331/QĐ-UBND ",
    "vietnamese-words": "cải cách hành chính ",
    "vietnamese-glued": "cảicáchhànhchính",
    "place": "Quảng Bình ",
    "nao": "nào ",
    "nam": "năm 2018 ",
    "question": "là bao nhiêu? ",
    "sentence-ends": "Câu. ",
    "combining": "a\u0301",
    "emoji": "👍",
}


def adversarial_inputs(size: int = DEFAULT_SIZE) -> dict[str, str]:
    """Hostile texts of exactly ``size`` characters, by name.

    Each unit of ``_UNITS`` repeated; for runs of one character class also the near-miss
    variants "<run> then a different character" (``digits+bang``, ``upper+lower``…).
    """
    inputs: dict[str, str] = {}
    for name, unit in _UNITS.items():
        inputs[name] = (unit * (size // len(unit) + 1))[:size]
    for name, tail in (("digits", "!"), ("letters", "!"), ("upper", "a"), ("digit-letter", "/"),
                       ("digit-slash", " "), ("spaces", "a"), ("vietnamese-glued", "/")):
        inputs[f"{name}+{tail!r}"] = inputs[name][: size - 1] + tail
    return inputs


@dataclass(frozen=True)
class ProbeResult:
    """One pattern on one input: seconds to ``finditer`` to the end (None: timed out)."""

    pattern: str
    source: str
    input_name: str
    seconds: float | None
    matches: int = 0

    @property
    def timed_out(self) -> bool:
        return self.seconds is None


def slow(results: Sequence[ProbeResult], seconds: float) -> list[ProbeResult]:
    """The results that took longer than ``seconds`` (or timed out), slowest first."""
    over = [r for r in results if r.timed_out or r.seconds > seconds]  # type: ignore[operator]
    return sorted(over, key=lambda r: float("inf") if r.seconds is None else -r.seconds)


# --------------------------------------------------------------------------- collecting


def _is_pattern(value: Any) -> bool:
    return isinstance(value, re.Pattern) or (
        type(value).__module__.startswith("regex") and type(value).__name__ == "Pattern")


def _patterns_in(value: Any, label: str) -> Iterator[tuple[str, Any]]:
    if _is_pattern(value):
        yield label, value
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            if _is_pattern(item):
                yield f"{label}[{index}]", item
    elif isinstance(value, dict):
        for key, item in value.items():
            if _is_pattern(item):
                yield f"{label}[{key!r}]", item


def package_modules(package: str, root: Path = ROOT) -> list[str]:
    """Every module of ``package`` (a folder under ``root``), by name, from the file tree: no
    import here (the parent may run in a venv that cannot import them)."""
    folder = root / package.replace(".", "/")
    if not (folder / "__init__.py").is_file():
        raise ValueError(f"{package} is not a package under {root}")
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def collect(specs: Sequence[str]) -> list[tuple[str, Any]]:
    """(label, compiled pattern) for every spec: a module name, ``module:ATTR`` or
    ``nlu-data:<path>``. Runs in the child (it imports the modules)."""
    found: list[tuple[str, Any]] = []
    seen: set[tuple[str, int]] = set()

    def add(label: str, pattern: Any) -> None:
        key = (pattern.pattern, pattern.flags)
        if key not in seen:  # a pattern shared by several modules is probed once
            seen.add(key)
            found.append((label, pattern))

    for spec in specs:
        if spec.startswith("nlu-data:"):
            for label, pattern in _nlu_data_patterns(spec.split(":", 1)[1]):
                add(label, pattern)
        elif ":" in spec:
            module_name, attr = spec.split(":", 1)
            value = getattr(importlib.import_module(module_name), attr)
            add(spec, value if _is_pattern(value) else re.compile(value))
        else:
            module = importlib.import_module(spec)
            for name, value in sorted(vars(module).items()):
                for label, pattern in _patterns_in(value, f"{spec}.{name}"):
                    add(label, pattern)
    return found


def _nlu_data_patterns(path: str) -> Iterator[tuple[str, Any]]:
    from rasa.nlu.utils.pattern_utils import extract_patterns
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / path))
    # as config.yml runs them: RegexFeaturizer case-insensitive with lookup tables and word
    # boundaries, RegexEntityExtractor the regexes
    for item in extract_patterns(data, use_lookup_tables=True, use_regexes=True,
                                 use_word_boundaries=True):
        yield f"nlu-data:{path}:{item['name']}", re.compile(item["pattern"], re.IGNORECASE)


# --------------------------------------------------------------------------- child process


def _child(specs: list[str], size: int, start: int, names: list[str] | None) -> None:
    """Print one JSON line per cell: {"start": i, ...} before and {"done": i, ...} after."""
    patterns = collect(specs)
    inputs = adversarial_inputs(size)
    if names is not None:
        unknown = sorted(set(names) - set(inputs))
        if unknown:
            raise ValueError(f"unknown inputs {unknown}; known: {sorted(inputs)}")
        inputs = {name: inputs[name] for name in names}
    cells = [(label, pattern, name, text) for label, pattern in patterns
             for name, text in inputs.items()]
    print(json.dumps({"cells": len(cells)}), flush=True)
    for index in range(start, len(cells)):
        label, pattern, name, text = cells[index]
        source = pattern.pattern
        if isinstance(source, bytes):  # a bytes pattern (file parsing) gets the UTF-8 bytes
            source, text = repr(source), text.encode("utf-8")
        print(json.dumps({"start": index, "pattern": label, "source": source, "input": name}),
              flush=True)
        began = time.perf_counter()
        matches = sum(1 for _ in pattern.finditer(text))
        print(json.dumps({"done": index, "seconds": time.perf_counter() - began,
                          "matches": matches}), flush=True)


def probe(specs: Sequence[str], *, python: str = sys.executable, size: int = DEFAULT_SIZE,
          cell_timeout: float = DEFAULT_CELL_TIMEOUT, inputs: Sequence[str] | None = None,
          cwd: Path = ROOT, env: dict[str, str] | None = None,
          startup_timeout: float = 300.0) -> list[ProbeResult]:
    """Time every collected pattern on every adversarial input, in ``python`` children.

    Args:
        specs: module names, ``module:ATTR`` or ``nlu-data:<path>`` (see the module doc).
        python: the interpreter whose environment can import the modules.
        size: characters per input.
        cell_timeout: seconds one pattern may take on one input before it is given up
            (reported with ``seconds=None``).
        inputs: names of :func:`adversarial_inputs` to use (all by default).
        cwd, env: of the child (the repository root by default, so its modules come first).
        startup_timeout: seconds the child may take to import the modules.

    Raises:
        RuntimeError: when the child fails to import or collect (its output attached).
    """
    results: list[ProbeResult] = []
    start = 0
    total: int | None = None
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(cwd)}
    while total is None or start < total:
        with tempfile.TemporaryFile() as errors:  # a file: a chatty child never blocks on it
            proc = subprocess.Popen(
                [python, str(Path(__file__).resolve()), "--child", json.dumps(list(specs)),
                 "--size", str(size), "--start", str(start),
                 "--inputs", json.dumps(list(inputs) if inputs is not None else None)],
                cwd=cwd, env=child_env, stdout=subprocess.PIPE, stderr=errors,
                start_new_session=True)
            lines = _LineReader(proc.stdout.fileno())  # type: ignore[union-attr]
            current: dict[str, Any] | None = None
            deadline = time.monotonic() + startup_timeout
            try:
                while True:
                    line = lines.next(deadline)
                    if line is None:  # the current cell (or the start-up) passed its deadline
                        if current is None:
                            raise RuntimeError(f"regex probe child did not start within "
                                               f"{startup_timeout:g} s")
                        results.append(ProbeResult(current["pattern"], current["source"],
                                                   current["input"], None))
                        start = current["start"] + 1
                        break
                    if line == b"":  # the child ended
                        if proc.wait() != 0:
                            errors.seek(0)
                            raise RuntimeError("regex probe child failed:\n"
                                               + errors.read()[-4000:].decode(errors="replace"))
                        start = total or 0
                        break
                    message = json.loads(line)
                    if "cells" in message:
                        total = message["cells"]
                    elif "start" in message:
                        current = message
                    elif "done" in message and current is not None:
                        results.append(ProbeResult(current["pattern"], current["source"],
                                                   current["input"], message["seconds"],
                                                   message["matches"]))
                        current = None
                    deadline = time.monotonic() + cell_timeout
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                proc.stdout.close()  # type: ignore[union-attr]
    return results


class _LineReader:
    """Lines from a pipe with a deadline (a buffered file object would hide ready lines from
    ``select``)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, deadline: float) -> bytes | None:
        """The next line; b"" at the end of the stream; None when ``deadline`` passed."""
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                rest, self.buffer = self.buffer, b""
                return rest
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", help="module, module:ATTR or nlu-data:<path>")
    parser.add_argument("--package", action="append", default=[],
                        help="probe every module of this package")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT)
    parser.add_argument("--limit", type=float, default=0.5,
                        help="seconds above which a cell is reported as slow")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", default="null", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(json.loads(args.child), args.size, args.start, json.loads(args.inputs))
        return 0
    specs = [*args.specs]
    for package in args.package:
        specs[:0] = package_modules(package)
    results = probe(specs, python=args.python, size=args.size, cell_timeout=args.cell_timeout)
    worst: dict[str, ProbeResult] = {}
    for result in results:
        best = worst.get(result.pattern)
        if best is None or result.timed_out or (
                best.seconds is not None and result.seconds > best.seconds):  # type: ignore
            worst[result.pattern] = result
    for result in sorted(worst.values(), key=lambda r: -(r.seconds or float("inf"))):
        took = "TIMEOUT" if result.timed_out else f"{result.seconds:8.4f}s"
        print(f"{took:>9}  {result.input_name:<22} {result.pattern}  /{result.source[:60]}/")
    over = slow(results, args.limit)
    print(f"\n{len(worst)} patterns x {len(adversarial_inputs(8))} inputs of {args.size} "
          f"characters; {len(over)} cells over {args.limit:g} s")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
