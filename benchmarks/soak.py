"""A long run with crashes: conversations keep going while the servers are killed (-9).

    # start a stack (scripts/serve.sh on free ports, own state), 20 users for 10 minutes,
    # kill -9 the action server at 3:00 and Rasa at 5:30
    python -m benchmarks.soak --start . --duration 600

    # a 2-minute smoke run that kills only the action server
    python -m benchmarks.soak --start . --duration 120 --kill actions@40

    # against servers you started yourself (they will be killed: say so explicitly)
    python -m benchmarks.soak --url http://127.0.0.1:5005 --action-port 5055 \\
        --tracker-db var/tracker.db --allow-kill

The conversations are those of ``benchmarks.load`` (closed loop, think time, a new sender per
conversation). Each ``--kill NAME@SECONDS`` sends SIGKILL to the process listening on that
server's port (or named in ``--rasa-pid-file``/``--actions-pid-file``), then watches for the
server to come back (a new process listening, its health URL answering). Nothing here restarts
a server: that is the supervisor's job, and a soak without one shows the outage as it is.

Every turn is classified: **answered** (a reply with text), **apology** (the reply says the
service is interrupted: ``--apology-pattern``), **empty** (HTTP 200, no message), **error**
(refused, reset, HTTP error, timeout) — and **lost** when it got no reply (empty or error) and
its user message is not in the tracker store either (the SQLite ``events`` table Rasa writes:
``--tracker-db``). The outage window of a kill lasts until the first turn after it that got a
real answer; a turn overlapping a window (sent or still waiting in it) counts as inside.
Recovery after each kill: seconds until a new process listened, until its health URL
answered, until the first real answer. Tables on stdout, JSON in
``var/benchmarks/soak.json`` (``--out``). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import OUT_DIR, table
from benchmarks.conversation import (
    DEFAULT_APOLOGY_PATTERN,
    ChannelKind,
    NotLoopbackError,
    TurnKind,
    TurnResult,
    require_loopback,
)
from benchmarks.load import LoadSettings, run_closed_loop, summarize
from benchmarks.stack import CpuMeter, Stack, cpu_info, pid_on_port, process_environ, rss_mb

logger = logging.getLogger("benchmarks.soak")

SERVERS = ("rasa", "actions")
#: turn kinds whose reply comes from the action server (greeting lists the documents,
#: feedback is stored by an action); thanks is a plain response of Rasa's
ACTION_KINDS = frozenset({TurnKind.GREETING, TurnKind.QUESTION, TurnKind.QUESTION_PLAIN,
                          TurnKind.FOLLOW_UP})


@dataclass(frozen=True)
class KillPlan:
    """Kill ``server`` ("rasa" or "actions") ``at`` seconds into the run."""

    server: str
    at: float

    @classmethod
    def parse(cls, text: str) -> KillPlan:
        name, sep, at = text.partition("@")
        if name not in SERVERS or not sep:
            raise ValueError(f"--kill takes NAME@SECONDS with NAME in {', '.join(SERVERS)}, "
                             f"not {text!r}")
        try:
            seconds = float(at)
        except ValueError:
            raise ValueError(f"--kill {text!r}: {at!r} is not a number of seconds") from None
        if seconds < 0:
            raise ValueError(f"--kill {text!r}: seconds must be >= 0")
        return cls(name, seconds)


@dataclass
class KillRecord:
    """What happened when a server was killed (seconds are relative to the kill)."""

    server: str
    planned_at: float
    at: float | None = None  # seconds into the run
    pid: int | None = None
    error: str | None = None
    listening_after_s: float | None = None
    new_pid: int | None = None
    healthy_after_s: float | None = None
    answered_after_s: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SoakTargets:
    """The servers of a run: ports, health URLs, optional pid files."""

    rasa_port: int
    action_port: int
    pid_files: dict[str, Path] = field(default_factory=dict)

    @property
    def ports(self) -> dict[str, int]:
        return {"rasa": self.rasa_port, "actions": self.action_port}

    def health_url(self, server: str) -> str:
        if server == "rasa":
            return f"http://127.0.0.1:{self.rasa_port}/"
        return f"http://127.0.0.1:{self.action_port}/health"

    def pid(self, server: str) -> int | None:
        """From the pid file when it names a live process, else the port's listener."""
        path = self.pid_files.get(server)
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                pid = int(path.read_text().strip())
                os.kill(pid, 0)
                return pid
        return pid_on_port(self.ports[server])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


async def kill_and_watch(plan: KillPlan, targets: SoakTargets, t0: float, watch_until: float,
                         record: KillRecord) -> None:
    """At ``plan.at``: SIGKILL the server, then poll until a new process listens and its
    health URL answers (or ``watch_until``, seconds into the run)."""
    await asyncio.sleep(max(t0 + plan.at - time.monotonic(), 0))
    pid = targets.pid(plan.server)
    record.at = time.monotonic() - t0
    if pid is None:
        record.error = "no process found to kill (already down?)"
        logger.warning("%s: nothing to kill at %.0f s", plan.server, record.at)
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        record.error = f"pid {pid} was already gone"
        return
    record.pid = pid
    logger.info("kill -9 %s (pid %d) at %.1f s", plan.server, pid, record.at)
    killed_at = time.monotonic()
    port = targets.ports[plan.server]
    while time.monotonic() - t0 < watch_until:
        await asyncio.sleep(0.25)
        if record.listening_after_s is None:
            current = await asyncio.to_thread(pid_on_port, port)
            if current is not None and current != pid:
                record.listening_after_s = round(time.monotonic() - killed_at, 2)
                record.new_pid = current
        if record.listening_after_s is not None and record.healthy_after_s is None:
            if await asyncio.to_thread(_healthy, targets.health_url(plan.server)):
                record.healthy_after_s = round(time.monotonic() - killed_at, 2)
                logger.info("%s back: listening after %.1f s, healthy after %.1f s",
                            plan.server, record.listening_after_s, record.healthy_after_s)
                return


# -- classification ------------------------------------------------------------------------
def tracker_user_messages(db: Path, marker: str) -> set[tuple[str, str]] | None:
    """(sender id, text) of every user message in the SQLite tracker store whose sender id
    contains ``marker``; None when the file cannot be read. Sender ids are matched by
    suffix later, so a channel prefix (``rest:…``) added by the server does not matter."""
    if not db.is_file():
        return None
    try:
        # not mode=ro: a WAL database left by a killed Rasa needs its -shm file recovered
        with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
            conn.execute("PRAGMA query_only = 1")
            rows = conn.execute("SELECT sender_id, data FROM events WHERE type_name = 'user' "
                                "AND instr(sender_id, ?) > 0", (marker,)).fetchall()
    except sqlite3.Error as exc:
        logger.warning("tracker store %s unreadable: %s", db, exc)
        return None
    found = set()
    for sender, data in rows:
        with contextlib.suppress(ValueError, TypeError):
            found.add((sender, json.loads(data).get("text") or ""))
    return found


def in_tracker(result: TurnResult, stored: set[tuple[str, str]]) -> bool:
    return any(text == result.text and (sender == result.sender
                                        or sender.endswith(result.sender))
               for sender, text in stored)


def outage_windows(kills: Sequence[KillRecord], end: float) -> list[tuple[float, float]]:
    """[kill, first real answer after it] per kill (until ``end`` when none came)."""
    windows = []
    for kill in kills:
        if kill.at is None or kill.pid is None:
            continue
        stop = kill.at + kill.answered_after_s if kill.answered_after_s is not None else end
        windows.append((kill.at, stop))
    return windows


def first_answer_after(results: Sequence[TurnResult], kill: KillRecord,
                       apology: re.Pattern[str]) -> float | None:
    """Seconds from the kill until a turn sent after it got a real answer (for the action
    server: a turn whose reply comes from an action)."""
    if kill.at is None:
        return None
    best = None
    for r in results:
        if r.started < kill.at or not r.ok or r.is_apology(apology):
            continue
        if kill.server == "actions" and r.kind not in ACTION_KINDS:
            continue
        done = r.started + r.latency - kill.at
        best = done if best is None else min(best, done)
    return None if best is None else round(best, 2)


def classify(results: Sequence[TurnResult], windows: Sequence[tuple[float, float]],
             stored: set[tuple[str, str]] | None, apology: re.Pattern[str]) -> dict:
    """Counts of answered / apology / empty / error / lost, inside and outside outages."""
    def bucket() -> dict:
        return {"sent": 0, "answered": 0, "apology": 0, "empty": 0, "error": 0,
                "lost": 0 if stored is not None else None}

    out = {"all": bucket(), "outside_outages": bucket(), "inside_outages": bucket()}
    lost_turns = []
    for r in results:
        # a turn in flight when the server died is inside the outage too
        inside = any(r.started <= b and r.started + r.latency >= a for a, b in windows)
        where = out["inside_outages" if inside else "outside_outages"]
        for b in (out["all"], where):
            b["sent"] += 1
        if r.error is not None:
            state = "error"
        elif r.empty:
            state = "empty"
        elif r.is_apology(apology):
            state = "apology"
        else:
            state = "answered"
        for b in (out["all"], where):
            b[state] += 1
        if state in ("error", "empty") and stored is not None and not in_tracker(r, stored):
            for b in (out["all"], where):
                b["lost"] += 1
            lost_turns.append({**r.as_dict(), "inside_outage": inside})
    out["lost_turns"] = lost_turns[:200]
    return out


# -- a run ---------------------------------------------------------------------------------
def soak(url: str, targets: SoakTargets, settings: LoadSettings, plans: Sequence[KillPlan],
         tracker_db: Path | None, apology: str = DEFAULT_APOLOGY_PATTERN) -> dict:
    """Run the conversations with the kills, then classify every turn."""
    require_loopback(url)
    pattern = re.compile(apology)
    run_id = "soak-" + uuid.uuid4().hex[:8]
    kills = [KillRecord(p.server, p.at) for p in sorted(plans, key=lambda p: p.at)]
    meter = CpuMeter(targets.ports)
    meter.start()
    rss_start = {name: rss_mb(pid) for name, pid in meter.pids.items()}

    async def run() -> tuple[list[TurnResult], float]:
        t0 = time.monotonic()
        watch_until = settings.duration + settings.timeout
        watchers = [asyncio.create_task(kill_and_watch(p, targets, t0, watch_until, k))
                    for p, k in zip(sorted(plans, key=lambda p: p.at), kills, strict=True)]
        results, wall = await run_closed_loop(url, settings, run_id=run_id)
        for task in watchers:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return results, wall

    begin = time.monotonic()
    results, wall = asyncio.run(run())
    cpu = meter.stop(time.monotonic() - begin)
    for kill in kills:
        kill.answered_after_s = first_answer_after(results, kill, pattern)
    windows = outage_windows(kills, wall)
    stored = tracker_user_messages(tracker_db, run_id) if tracker_db else None
    counts = classify(results, windows, stored, pattern)
    rss_end = {name: rss_mb(targets.pid(name) or 0) for name in SERVERS}
    return {"run_id": run_id, "settings": {**settings.__dict__,
                                           "channel": settings.channel.value,
                                           "mix": settings.mix.value},
            "kills": [k.as_dict() for k in kills], "outage_windows": windows,
            "tracker_db": str(tracker_db) if tracker_db else None,
            "tracker_checked": stored is not None, "counts": counts,
            "latency": summarize(results, wall, pattern), "cpu": cpu,
            "rss_mb": {"start": rss_start, "end": rss_end},
            "turns": [r.as_dict() for r in results]}


def report(result: dict) -> str:
    counts = result["counts"]
    rows = [{"turns": name.replace("_", " "), **{k: ("?" if v is None else v)
                                                  for k, v in counts[name].items()}}
            for name in ("all", "outside_outages", "inside_outages")]
    kills = [{"server": k["server"], "at_s": _num(k["at"]), "pid": k["pid"] or "-",
              "listening_after_s": _num(k["listening_after_s"]),
              "healthy_after_s": _num(k["healthy_after_s"]),
              "answered_after_s": _num(k["answered_after_s"]),
              "note": k["error"] or ("not back" if k["pid"] and k["healthy_after_s"] is None
                                     else "")}
             for k in result["kills"]]
    overall = result["latency"]["overall"]
    lines = [table(rows), ""]
    if kills:
        lines += [table(kills), ""]
    lines.append(f"latency of replied turns: p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']}"
                 f" ms, max {overall['max_ms']} ms; {overall['turns_per_s']} answered turns/s")
    if not result["tracker_checked"]:
        lines.append("lost turns: unknown (tracker store not readable: --tracker-db)")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _tracker_db_of(pid: int | None, checkout: Path) -> Path | None:
    """RASA_TRACKER_DB from the Rasa process's environment (serve.sh sets it)."""
    env = process_environ(pid) if pid else {}
    value = env.get("RASA_TRACKER_DB")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else checkout / path


def _kill_arg(text: str) -> KillPlan | None:
    if text == "none":
        return None
    try:
        return KillPlan.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak",
                                     description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running Rasa server on loopback")
    target.add_argument("--start", type=Path, metavar="CHECKOUT",
                        help="start scripts/serve.sh of this checkout on free ports")
    parser.add_argument("--action-port", type=int, help="with --url (default 5055)")
    parser.add_argument("--rasa-pid-file", type=Path)
    parser.add_argument("--actions-pid-file", type=Path)
    parser.add_argument("--tracker-db", type=Path,
                        help="the SQLite tracker store (default: Rasa's RASA_TRACKER_DB)")
    parser.add_argument("--allow-kill", action="store_true",
                        help="with --url: yes, kill -9 the servers listening on those ports")
    parser.add_argument("--model", help="Rasa model for --start")
    parser.add_argument("--index", type=Path, help="index for --start")
    parser.add_argument("--link-shared", action="store_true")
    parser.add_argument("--kill", action="append", type=_kill_arg, metavar="NAME@SECONDS",
                        help="e.g. actions@180 (default: actions at 30 %% and rasa at 55 %% "
                             "of the duration); --kill none for no kill")
    parser.add_argument("--channel", default="rest")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--jitter", type=float, default=0.3)
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--max-turns", type=int, default=20000)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--apology-pattern", default=DEFAULT_APOLOGY_PATTERN)
    parser.add_argument("--state", type=Path, default=OUT_DIR / "soak-state")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "soak.json")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.url:
        try:
            require_loopback(args.url)
        except NotLoopbackError as exc:
            parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request otherwise
    settings = LoadSettings(args.conversations, args.think, args.jitter, args.duration,
                            args.max_turns, args.timeout, ChannelKind.from_str(args.channel),
                            args.seed)
    plans = [p for p in (args.kill or [KillPlan("actions", round(args.duration * 0.30)),
                                       KillPlan("rasa", round(args.duration * 0.55))]) if p]
    if any(p.at >= args.duration for p in plans):
        parser.error("every --kill must come before the end of --duration")
    pid_files = {k: v for k, v in (("rasa", args.rasa_pid_file),
                                   ("actions", args.actions_pid_file)) if v}
    cpu = cpu_info()
    stack = None
    try:
        if args.url:
            _, port = require_loopback(args.url)
            if plans and not args.allow_kill:
                parser.error("--url with kills: pass --allow-kill to confirm that the servers "
                             "on these ports may be killed (or --kill none)")
            targets = SoakTargets(port, args.action_port or 5055, pid_files)
            url = args.url
            tracker_db = args.tracker_db or _tracker_db_of(targets.pid("rasa"), Path.cwd())
        else:
            stack = Stack(checkout=args.start, state=args.state, model=args.model,
                          index=args.index, link_shared=args.link_shared)
            stack.start()
            url = stack.url
            run = stack.state / "run"
            targets = SoakTargets(stack.rasa_port, stack.action_port,
                                  pid_files or {"rasa": run / "rasa.pid",
                                                "actions": run / "actions.pid"})
            tracker_db = args.tracker_db or stack.state / "tracker.db"
        result = soak(url, targets, settings, plans, tracker_db, args.apology_pattern)
    finally:
        if stack is not None:
            stack.stop()
    result["cpu_info"] = cpu
    if stack is not None:
        result["stack"] = {"checkout": stack.label, "startup_s": stack.startup_s}
    print(report(result))
    print(f"\nCPU: {cpu['model']} ({cpu['cores']} cores), load average at start "
          f"{cpu['loadavg_at_start']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(f"written {args.out}")
    lost_outside = result["counts"]["outside_outages"]["lost"]
    return 1 if lost_outside else 0


if __name__ == "__main__":
    sys.exit(main())
