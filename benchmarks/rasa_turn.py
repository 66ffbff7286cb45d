"""Where a Rasa turn spends its time: every NLU component, every policy, the tracker store,
the action call — measured in-process with timing hooks (run in the Rasa venv).

    .venv/rasa/bin/python -m benchmarks.rasa_turn --model var/rasa-models/cchc-….tar.gz \\
        --actions-url http://127.0.0.1:5055/webhook --conversations 6

The trained model is loaded with Rasa's own ``Agent`` (the code path of ``rasa run``), with a
SQL tracker store on a fresh SQLite file (``--tracker-db``) and the given action server.
Conversations of :mod:`benchmarks.conversation` are played one turn at a time (one user, no
contention: this is each part's own cost; under load the parts queue behind each other on
Rasa's single event loop). Measured per turn:

- every graph node (a ``GraphNodeHook`` on each node of the loaded graph): the tokenizer, the
  featurizers, DIET, the intent classifier, each policy, the ensemble;
- the tracker store's ``retrieve`` / ``save`` (``--store sql``: Rasa's ``SQLTrackerStore``;
  ``wal``: ``bot.tracker_store.SQLiteTrackerStore``, what bot/endpoints.yml uses);
- ``DialogueStateTracker.copy`` (Rasa copies the tracker before each action);
  ``RemoteAction.run`` (the HTTP call to the action server, its work included);
  ``MessageProcessor.handle_message`` in total.

The first ``--warm-up`` turns are reported apart (cold costs: TensorFlow tracing, caches).
Prints a table; ``--out`` writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.conversation import make_script

logger = logging.getLogger("benchmarks.rasa_turn")


class TurnClock:
    """Milliseconds per named part, accumulated over the current turn."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.current[name] += seconds * 1000
        self.calls[name] += 1

    def take(self) -> dict[str, float]:
        turn, self.current = dict(self.current), defaultdict(float)
        return turn


def _timed_async(clock: TurnClock, name: str, fn):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            clock.add(name, time.perf_counter() - start)
    return wrapper


def _timed(clock: TurnClock, name: str, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            clock.add(name, time.perf_counter() - start)
    return wrapper


def instrument(agent, clock: TurnClock) -> list[str]:
    """Timing hooks on every graph node and wrappers around the store, copy and action call.
    Returns the node names in graph order."""
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import GraphNodeHook
    from rasa.shared.core.trackers import DialogueStateTracker

    class TimingHook(GraphNodeHook):
        def on_before_node(self, node_name, execution_context, config, received_inputs):
            return {"start": time.perf_counter()}

        def on_after_node(self, node_name, execution_context, config, output,
                          input_hook_data):
            clock.add("node " + node_name, time.perf_counter() - input_hook_data["start"])

    processor = agent.processor
    nodes = processor.graph_runner._instantiated_nodes  # noqa: SLF001 - measurement only
    for node in nodes.values():
        node._hooks.append(TimingHook())  # noqa: SLF001
    store = processor.tracker_store
    store.retrieve = _timed_async(clock, "tracker store retrieve", store.retrieve)
    store.save = _timed_async(clock, "tracker store save", store.save)
    processor.handle_message = _timed_async(clock, "TOTAL handle_message",
                                            processor.handle_message)
    processor.parse_message = _timed_async(clock, "parse_message (NLU graph)",
                                           processor.parse_message)
    processor.predict_next_with_tracker_if_should = _timed(
        clock, "predict next action (policy graph)",
        processor.predict_next_with_tracker_if_should)
    RemoteAction.run = _timed_async(clock, "RemoteAction.run (HTTP to action server)",
                                    RemoteAction.run)
    DialogueStateTracker.copy = _timed(clock, "DialogueStateTracker.copy",
                                       DialogueStateTracker.copy)
    return list(nodes)


async def play(agent, clock: TurnClock, conversations: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    turns = []
    for n in range(conversations):
        sender = f"profile-{seed}-{n}"
        for turn in make_script(rng):
            start = time.perf_counter()
            replies = await agent.handle_text(turn.text, sender_id=sender)
            wall = (time.perf_counter() - start) * 1000
            turns.append({"kind": turn.kind.value, "text": turn.text, "wall_ms": wall,
                          "replies": len(replies or []), "parts": clock.take()})
    return turns


def summarize(turns: list[dict], warm_up: int) -> list[dict]:
    """Per part: mean and median ms per turn over the warm turns, and the first turn's ms."""
    warm = turns[warm_up:]
    names = sorted({name for t in turns for name in t["parts"]},
                   key=lambda n: (not n.startswith("TOTAL"), n))
    rows = []
    for name in names:
        values = [t["parts"].get(name, 0.0) for t in warm]
        rows.append({"part": name,
                     "mean_ms/turn": round(statistics.fmean(values), 2) if values else None,
                     "p50_ms/turn": round(statistics.median(values), 2) if values else None,
                     "max_ms": round(max(values), 1) if values else None,
                     "first_turn_ms": round(turns[0]["parts"].get(name, 0.0), 1)
                     if turns else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rasa_turn",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--actions-url", required=True,
                        help="the action server's webhook, e.g. http://127.0.0.1:5055/webhook")
    parser.add_argument("--tracker-db", type=Path, help="SQLite file (default: a temp file)")
    parser.add_argument("--store", choices=("sql", "wal"), default="wal",
                        help="Rasa's SQLTrackerStore, or bot.tracker_store's WAL SQLite store")
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--project", type=Path,
                        help="a checkout whose bot/ (NLU components, tracker store) Rasa uses "
                             "(default: this one), e.g. a git worktree of an older commit")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.project:  # its bot/ package first; relative model paths in config.yml from there
        project = args.project.resolve()
        sys.path.insert(0, str(project))
        os.chdir(project)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    from benchmarks.conversation import require_loopback

    require_loopback(args.actions_url)
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.INFO)  # as `rasa run` logs: no debug records to format
    from rasa.utils.tensorflow.environment import setup_tf_environment

    setup_tf_environment()  # as `rasa run`: TF_INTRA_OP_/TF_INTER_OP_PARALLELISM_THREADS

    store_class = SQLTrackerStore
    if args.store == "wal":
        from bot.tracker_store import SQLiteTrackerStore

        store_class = SQLiteTrackerStore

    tmp = None
    db = args.tracker_db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="rasa-turn-")
        db = Path(tmp.name) / "tracker.db"

    async def run() -> tuple[list[str], list[dict], float]:
        start = time.perf_counter()
        # as `rasa run` builds it: the SQL store inside Rasa's FailSafeTrackerStore
        agent = Agent.load(args.model, action_endpoint=EndpointConfig(args.actions_url),
                           tracker_store=store_class(None, dialect="sqlite", db=str(db)))
        load_s = time.perf_counter() - start
        clock = TurnClock()
        nodes = instrument(agent, clock)
        turns = await play(agent, clock, args.conversations, args.seed)
        return nodes, turns, load_s

    try:
        nodes, turns, load_s = asyncio.run(run())
    finally:
        if tmp is not None:
            tmp.cleanup()
    rows = summarize(turns, args.warm_up)
    from benchmarks.stack import cpu_info

    cpu = cpu_info()
    width = max(len(r["part"]) for r in rows)
    print(f"{'part':<{width}}  mean ms/turn  p50 ms/turn  max ms  first turn ms")
    for r in rows:
        print(f"{r['part']:<{width}}  {r['mean_ms/turn']:>12}  {r['p50_ms/turn']:>11}  "
              f"{r['max_ms']:>6}  {r['first_turn_ms']:>13}")
    print(f"\n{len(turns)} turns ({len(turns) - args.warm_up} warm), model loaded in "
          f"{load_s:.1f} s; CPU {cpu['model']} ({cpu['cores']} cores), AMX "
          f"{'yes' if cpu['amx'] else 'no'}, load average {cpu['loadavg_at_start']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"cpu": cpu, "model": args.model, "load_s": load_s,
                                        "nodes": nodes, "rows": rows, "turns": turns},
                                       ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
