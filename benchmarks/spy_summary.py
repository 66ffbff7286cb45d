"""Where a server spent its CPU under load: py-spy samples grouped by component.

    # during a load run (py-spy is not a project dependency: install it outside the venvs,
    # e.g. pip install --target /tmp/pyspy py-spy)
    /tmp/pyspy/bin/py-spy record --pid RASA_PID --duration 60 --rate 100 --nonblocking \\
        --format raw --output rasa.txt
    python -m benchmarks.spy_summary rasa.txt --turns 240 --seconds 60

``--format raw`` writes one line per distinct stack, ``frame;frame;… count``. Each stack is
given to the first component whose pattern occurs in it (the list below, most specific first:
the e5 encoder before "NLU", the tracker store before SQLAlchemy); without ``--idle`` py-spy
records only threads that were running, so the shares are shares of CPU time. With
``--turns`` and ``--seconds`` the samples become milliseconds of CPU per turn.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

#: (component, substrings of a stack) — first match wins
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("e5 sentence featurizer (numpy)", ("sentence_encoder.py", "sentence_featurizer.py")),
    ("DIETClassifier (TensorFlow)", ("diet_classifier.py",)),
    ("TEDPolicy (TensorFlow)", ("ted_policy.py",)),
    ("linear intent classifier", ("linear_intent_classifier.py",)),
    ("tokenizer", ("underthesea_tokenizer.py",)),
    ("CountVectors / Regex / Lexical featurizers",
     ("count_vectors_featurizer.py", "regex_featurizer.py", "lexical_syntactic_featurizer.py",
      "regex_entity_extractor.py")),
    ("MemoizationPolicy", ("memoization.py",)),
    ("RulePolicy", ("rule_policy.py",)),
    ("tracker store (SQLAlchemy, SQLite)", ("tracker_store.py", "sqlalchemy", "sqlite3")),
    ("action call (HTTP client, tracker/domain to JSON)", ("rasa/core/actions/action.py",
                                                          "aiohttp", "rasa/utils/endpoints.py")),
    ("tracker copies and events", ("rasa/shared/core/trackers.py",
                                   "rasa/shared/core/events.py")),
    ("other NLU / policy graph", ("rasa/engine/", "rasa/nlu/", "rasa/core/policies/")),
    ("HTTP server (Sanic), channels", ("sanic", "rasa/core/channels/", "socketio",
                                       "engineio")),
    ("TensorFlow (other)", ("tensorflow",)),
    ("asyncio event loop", ("asyncio",)),
)


def summarize(lines: list[str]) -> tuple[Counter, int]:
    """Samples per component (and the total) from py-spy's raw collapsed stacks."""
    counts: Counter = Counter()
    total = 0
    for line in lines:
        stack, _, number = line.rstrip().rpartition(" ")
        if not stack or not number.isdigit():
            continue
        samples = int(number)
        total += samples
        for name, patterns in COMPONENTS:
            if any(p in stack for p in patterns):
                counts[name] += samples
                break
        else:
            counts["other"] += samples
    return counts, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spy_summary",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--turns", type=int, help="turns answered while recording")
    parser.add_argument("--seconds", type=float, help="recording duration")
    parser.add_argument("--rate", type=float, default=100, help="py-spy --rate (samples/s)")
    args = parser.parse_args(argv)
    counts, total = summarize(args.raw.read_text(errors="replace").splitlines())
    if not total:
        print("no samples")
        return 1
    per_turn = (1000 / args.rate / args.turns) if args.turns else None
    print(f"{'component':<52} {'share':>6} {'ms CPU/turn':>11}")
    for name, samples in counts.most_common():
        ms = f"{samples * per_turn:.1f}" if per_turn else "-"
        print(f"{name:<52} {samples / total:>6.1%} {ms:>11}")
    busy = total / args.rate
    line = f"{total} samples = {busy:.1f} s of CPU"
    if args.seconds:
        line += f" in {args.seconds:.0f} s ({busy / args.seconds:.2f} cores)"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
