"""Many citizens at once: latency and throughput of a running assistant under load.

    # against a running stack (`make run`): 20 conversations, ~5 s think time, 2 minutes
    python -m benchmarks.load --url http://127.0.0.1:5005 --duration 120

    # start the stack itself (scripts/serve.sh on free ports, own state folder), then measure
    python -m benchmarks.load --start . --duration 120

    # before/after in one run: an older commit in a git worktree sharing the venvs
    git worktree add /tmp/before <commit>
    python -m benchmarks.load --start /tmp/before --start . --link-shared --saturation

Closed loop (default): ``--conversations`` simulated users, each playing a script of
:mod:`benchmarks.conversation` (greeting, questions with and without diacritics, follow-ups,
👍, thanks) with ``--think`` seconds (± ``--jitter``) between a reply and its next message, a
new sender id for every conversation; bounded by ``--duration`` and ``--max-turns``.

Saturation (``--saturation``): open-loop arrivals (Poisson) at a rising offered rate, step by
step (``--rates``), each step ``--step-seconds`` long and drained before the next; stops when
p95 passes ``--p95-limit`` (1 s) or more than 1 % of turns fail, and reports the last rate
that held.

Reported per turn kind and overall: p50/p95/p99/max, turns/s, errors, empty replies,
apologies; the CPU seconds each server process used during the run (``/proc/<pid>/stat``,
children included: pids from the listening ports or ``--rasa-pid``/``--actions-pid``); the
CPU model and whether AMX is present and used. Tables on stdout, everything as JSON under
``var/benchmarks/`` (``--out``). Loopback targets only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import OUT_DIR, percentile_ms, table
from benchmarks.conversation import (
    DEFAULT_APOLOGY_PATTERN,
    ChannelKind,
    NotLoopbackError,
    ScriptMix,
    Turn,
    TurnKind,
    TurnResult,
    make_script,
    open_channel,
    play_turn,
    require_loopback,
)
from benchmarks.stack import CpuMeter, Stack, amx_use, cpu_info, sanitize

logger = logging.getLogger("benchmarks.load")

DEFAULT_RATES = (1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40)


# -- settings -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadSettings:
    """One closed-loop run: how many users, how long they think, how long it lasts."""

    conversations: int = 20
    think: float = 5.0
    jitter: float = 0.3  # think time is uniform in think × [1 - jitter, 1 + jitter]
    duration: float = 60.0  # no new turn starts after this many seconds
    max_turns: int = 5000
    timeout: float = 30.0  # per turn
    channel: ChannelKind = ChannelKind.REST
    seed: int = 1
    mix: ScriptMix = ScriptMix.FULL

    def __post_init__(self) -> None:
        if not 1 <= self.conversations <= 1000:
            raise ValueError(f"conversations must be 1..1000, not {self.conversations}")
        if self.think < 0 or not 0 <= self.jitter < 1:
            raise ValueError("think must be >= 0 and jitter in [0, 1)")
        if not 0 < self.duration <= 24 * 3600:
            raise ValueError(f"duration must be in (0, 86400] seconds, not {self.duration}")
        if not 1 <= self.max_turns <= 1_000_000:
            raise ValueError(f"max_turns must be 1..1000000, not {self.max_turns}")
        if not 0 < self.timeout <= 600:
            raise ValueError(f"timeout must be in (0, 600] seconds, not {self.timeout}")


@dataclass(frozen=True)
class SaturationSettings:
    """The offered rates (turns/s) tried in order, and when a step counts as failed."""

    rates: tuple[float, ...] = DEFAULT_RATES
    step_seconds: float = 30.0
    p95_limit: float = 1.0  # seconds
    max_error_rate: float = 0.01
    max_inflight: int = 300  # arrivals beyond this many open turns are shed (and fail the step)
    timeout: float = 30.0
    channel: ChannelKind = ChannelKind.REST
    seed: int = 1
    mix: ScriptMix = ScriptMix.FULL

    def __post_init__(self) -> None:
        if not self.rates or any(r <= 0 or r > 1000 for r in self.rates):
            raise ValueError("rates must be positive turns/s (at most 1000)")
        if list(self.rates) != sorted(self.rates):
            raise ValueError("rates must rise")
        if not 1 <= self.step_seconds <= 3600:
            raise ValueError("step_seconds must be 1..3600")
        if self.p95_limit <= 0 or not 0 <= self.max_error_rate < 1:
            raise ValueError("p95_limit must be > 0 and max_error_rate in [0, 1)")


# -- statistics -----------------------------------------------------------------------------
def latency_stats(seconds: Sequence[float]) -> dict:
    """p50/p95/p99/max/mean in milliseconds (NaN-free: None when there are no samples)."""
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {"p50_ms": round(percentile_ms(seconds, 50), 1),
            "p95_ms": round(percentile_ms(seconds, 95), 1),
            "p99_ms": round(percentile_ms(seconds, 99), 1),
            "max_ms": round(max(seconds) * 1000, 1),
            "mean_ms": round(sum(seconds) / len(seconds) * 1000, 1)}


def summarize(results: Sequence[TurnResult], wall: float,
              apology: re.Pattern[str] | str = DEFAULT_APOLOGY_PATTERN) -> dict:
    """Overall and per-kind figures of a run that lasted ``wall`` seconds.

    Latency percentiles are over the turns that got an HTTP reply (errors are counted, and
    their time to failure is reported apart as ``error_max_ms``); ``turns_per_s`` counts the
    answered turns (reply with text) per second of the run.
    """
    pattern = re.compile(apology) if isinstance(apology, str) else apology

    def block(items: Sequence[TurnResult]) -> dict:
        replied = [r for r in items if r.error is None]
        errors = [r for r in items if r.error is not None]
        return {
            "turns": len(items),
            "answered": sum(1 for r in items if r.ok),
            "errors": len(errors),
            "empty": sum(1 for r in items if r.empty),
            "apologies": sum(1 for r in items if r.is_apology(pattern)),
            **latency_stats([r.latency for r in replied]),
            "error_max_ms": round(max(r.latency for r in errors) * 1000, 1) if errors else None,
        }

    overall = block(results)
    overall["turns_per_s"] = round(overall["answered"] / wall, 3) if wall > 0 else None
    overall["wall_s"] = round(wall, 2)
    by_kind = {kind.value: block([r for r in results if r.kind is kind])
               for kind in TurnKind if any(r.kind is kind for r in results)}
    first = {}
    for r in sorted(results, key=lambda r: r.started):
        if r.kind.value not in first:
            first[r.kind.value] = {"started_s": round(r.started, 2),
                                   "latency_ms": round(r.latency * 1000, 1),
                                   "error": r.error}
    errors: dict[str, int] = {}
    for r in results:
        if r.error is not None:
            key = re.sub(r"\d+(\.\d+)?", "N", r.error)[:80]
            errors[key] = errors.get(key, 0) + 1
    return {"overall": overall, "by_kind": by_kind, "first_turns": first,
            "error_kinds": dict(sorted(errors.items(), key=lambda kv: -kv[1]))}


def summary_rows(summary: dict, label: str = "") -> list[dict]:
    """Table rows: one per turn kind, then the overall row."""
    rows = []
    for kind, block in [*summary["by_kind"].items(), ("ALL", summary["overall"])]:
        rows.append({**({"stack": label} if label else {}), "kind": kind,
                     "turns": block["turns"], "errors": block["errors"],
                     "empty": block["empty"], "apology": block["apologies"],
                     "p50_ms": _fmt(block["p50_ms"]), "p95_ms": _fmt(block["p95_ms"]),
                     "p99_ms": _fmt(block["p99_ms"]), "max_ms": _fmt(block["max_ms"])})
    return rows


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# -- closed loop: N users thinking between turns ----------------------------------------------
@dataclass
class _Budget:
    """Shared stop conditions of a run."""

    deadline: float
    max_turns: int
    sent: int = 0

    def take(self) -> bool:
        if time.monotonic() >= self.deadline or self.sent >= self.max_turns:
            return False
        self.sent += 1
        return True


async def run_closed_loop(url: str, settings: LoadSettings, run_id: str | None = None,
                          on_result=None) -> tuple[list[TurnResult], float]:
    """Play ``settings.conversations`` users until the duration or turn budget runs out.

    Returns the turn results and the run's wall time (until the last reply). ``on_result``
    (optional) is called with each result as it arrives (the soak uses it).
    """
    require_loopback(url)
    run_id = run_id or uuid.uuid4().hex[:8]
    t0 = time.monotonic()
    budget = _Budget(t0 + settings.duration, settings.max_turns)
    results: list[TurnResult] = []

    async def user(index: int) -> None:
        rng = random.Random(f"{settings.seed}-{index}")
        # arrivals spread over one think time, as users who were not synchronised
        await asyncio.sleep(rng.uniform(0, max(settings.think, 0.5)))
        round_ = 0
        while time.monotonic() < budget.deadline:
            sender = f"load-{run_id}-c{index}-r{round_}"
            channel = open_channel(settings.channel, url, sender, settings.timeout)
            try:
                for turn in make_script(rng, settings.mix):
                    if not budget.take():
                        return
                    result = await play_turn(channel, index, sender, turn,
                                             time.monotonic() - t0)
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
                    pause = settings.think * rng.uniform(1 - settings.jitter,
                                                         1 + settings.jitter)
                    await asyncio.sleep(min(pause, max(budget.deadline - time.monotonic(), 0)))
            finally:
                await channel.close()
            round_ += 1

    await asyncio.gather(*(user(i) for i in range(settings.conversations)))
    end = max((t0 + r.started + r.latency for r in results), default=time.monotonic())
    return results, end - t0


# -- open loop: arrivals at a fixed offered rate ----------------------------------------------
@dataclass
class _OpenConversation:
    sender: str
    index: int
    turns: deque[Turn]
    channel: object = field(default=None)


async def run_open_loop(url: str, rate: float, seconds: float, settings: SaturationSettings,
                        run_id: str, step: int) -> tuple[list[TurnResult], float, int]:
    """Poisson arrivals at ``rate`` turns/s for ``seconds``; each arrival is the next turn of
    an idle conversation (a new one when none is idle), so a conversation never has two
    turns open. Returns (results, wall time until drained, shed arrivals)."""
    require_loopback(url)
    rng = random.Random(f"{settings.seed}-open-{step}")
    idle: deque[_OpenConversation] = deque()
    tasks: set[asyncio.Task] = set()
    results: list[TurnResult] = []
    shed = 0
    made = 0
    t0 = time.monotonic()

    async def play(conv: _OpenConversation, started: float) -> None:
        turn = conv.turns.popleft()
        results.append(await play_turn(conv.channel, conv.index, conv.sender, turn, started))
        if conv.turns:
            idle.append(conv)
        else:
            await conv.channel.close()

    next_at = t0
    while True:
        next_at += rng.expovariate(rate)
        if next_at - t0 >= seconds:
            break
        await asyncio.sleep(max(next_at - time.monotonic(), 0))
        if len(tasks) >= settings.max_inflight:
            shed += 1
            continue
        if idle:
            conv = idle.popleft()
        else:
            sender = f"sat-{run_id}-s{step}-c{made}"
            conv = _OpenConversation(sender, made, deque(make_script(rng, settings.mix)))
            conv.channel = open_channel(settings.channel, url, sender, settings.timeout)
            made += 1
        task = asyncio.create_task(play(conv, time.monotonic() - t0))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=settings.timeout + 5)
    for conv in idle:
        await conv.channel.close()
    return results, time.monotonic() - t0, shed


async def run_saturation(url: str, settings: SaturationSettings,
                         apology: str = DEFAULT_APOLOGY_PATTERN) -> dict:
    """Raise the offered rate step by step until p95 passes the limit or turns fail."""
    run_id = uuid.uuid4().hex[:8]
    steps = []
    held = None
    for step, rate in enumerate(settings.rates):
        results, wall, shed = await run_open_loop(url, rate, settings.step_seconds, settings,
                                                  run_id, step)
        summary = summarize(results, wall, apology)["overall"]
        failed_share = ((summary["errors"] + summary["empty"] + shed)
                        / max(summary["turns"] + shed, 1))
        p95 = summary["p95_ms"]
        ok = (p95 is not None and p95 <= settings.p95_limit * 1000
              and failed_share <= settings.max_error_rate)
        steps.append({"offered_per_s": rate, "sent": summary["turns"], "shed": shed,
                      # answered turns per second until the step's last reply (drain included)
                      "achieved_per_s": round(summary["answered"] / wall, 2),
                      "errors": summary["errors"], "empty": summary["empty"],
                      "p50_ms": summary["p50_ms"], "p95_ms": p95, "p99_ms": summary["p99_ms"],
                      "max_ms": summary["max_ms"], "held": ok})
        logger.info("offered %.1f/s: p95 %s ms, %d errors, %d empty, %d shed -> %s", rate,
                    p95, summary["errors"], summary["empty"], shed, "held" if ok else "FAILED")
        if not ok:
            break
        held = rate
    return {"p95_limit_ms": settings.p95_limit * 1000, "step_seconds": settings.step_seconds,
            "saturation_rate_per_s": held,
            "first_failed_rate_per_s": (steps[-1]["offered_per_s"]
                                        if steps and not steps[-1]["held"] else None),
            "steps": steps}


# -- one measurement against one stack ------------------------------------------------------
def measure(url: str, settings: LoadSettings, saturation: SaturationSettings | None,
            action_port: int | None, rasa_pid: int | None = None,
            actions_pid: int | None = None,
            apology: str = DEFAULT_APOLOGY_PATTERN, py_spy: str | None = None,
            profile_out: Path | None = None, servers: dict[str, int] | None = None) -> dict:
    """A closed-loop run (and a saturation search) with the servers' CPU time; with
    ``py_spy`` (the py-spy executable) Rasa is sampled during the closed-loop run and the
    samples are grouped by component (:mod:`benchmarks.spy_summary`). ``servers`` (name →
    port) replaces the default pair (Rasa at the URL's port, the action server at
    ``action_port``) when the URL is a proxy in front of several servers."""
    _, rasa_port = require_loopback(url)
    ports = servers or {"rasa": rasa_port, **({"actions": action_port} if action_port else {})}
    meter = CpuMeter(ports, {k: v for k, v in (("rasa", rasa_pid), ("actions", actions_pid))
                             if v})
    meter.start()
    spy = _start_py_spy(py_spy, meter.pids.get("rasa"), settings.duration, profile_out)
    begin = time.monotonic()
    results, wall = asyncio.run(run_closed_loop(url, settings))
    cpu = meter.stop(time.monotonic() - begin)
    profile = _finish_py_spy(spy, profile_out, sum(1 for r in results if r.ok),
                             settings.duration)
    for entry in cpu.values():  # CPU per answered turn, the cost that limits throughput
        answered = sum(1 for r in results if r.ok)
        if entry.get("cpu_s") is not None and answered:
            entry["cpu_ms_per_turn"] = round(entry["cpu_s"] / answered * 1000, 1)
    out = {"settings": {**settings.__dict__, "channel": settings.channel.value,
                        "mix": settings.mix.value},
           "summary": summarize(results, wall, apology), "cpu": cpu,
           "turns": [r.as_dict() for r in results]}
    if profile is not None:
        out["rasa_profile"] = profile
    if saturation is not None:
        meter = CpuMeter(ports, dict(meter.pids))
        meter.start()
        begin = time.monotonic()
        out["saturation"] = asyncio.run(run_saturation(url, saturation, apology))
        out["saturation"]["cpu"] = meter.stop(time.monotonic() - begin)
    return out


def _start_py_spy(py_spy: str | None, pid: int | None, seconds: float,
                  out: Path | None) -> subprocess.Popen | None:
    if not py_spy or pid is None or out is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration",
                             str(max(int(seconds), 1)), "--rate", "100", "--nonblocking",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish_py_spy(spy: subprocess.Popen | None, out: Path | None, turns: int,
                   seconds: float) -> dict | None:
    """Rasa's CPU by component, from py-spy's samples (100 per second of CPU)."""
    if spy is None or out is None:
        return None
    try:
        _, err = spy.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if not out.exists():
        return {"error": (err or "py-spy wrote nothing")[-500:]}
    from benchmarks.spy_summary import summarize as spy_summarize

    counts, total = spy_summarize(out.read_text(errors="replace").splitlines())
    per_turn = 10.0 / turns if turns else None  # 10 ms of CPU per sample at --rate 100
    return {"raw": str(out), "samples": total, "cpu_s": total / 100, "turns": turns,
            "components": {name: {"share": round(n / total, 4) if total else None,
                                  "ms_per_turn": round(n * per_turn, 1) if per_turn else None}
                           for name, n in counts.most_common()}}


def report(result: dict, label: str = "") -> str:
    """The text tables of one measurement."""
    summary = result["summary"]
    overall = summary["overall"]
    lines = [table(summary_rows(summary, label)), ""]
    lines.append(f"turns/s (answered): {overall['turns_per_s']}   wall: {overall['wall_s']} s")
    for name, entry in result["cpu"].items():
        if entry.get("cpu_s") is None:
            lines.append(f"CPU {name}: unknown (pid {entry.get('pid')} gone; "
                         f"now {entry.get('pid_now')})")
        else:
            lines.append(f"CPU {name} (pid {entry['pid']}): {entry['cpu_s']} s "
                         f"= {entry['cores']} cores, "
                         f"{entry.get('cpu_ms_per_turn', '-')} ms per answered turn")
    first = summary["first_turns"]
    if first:
        lines.append("first turn of each kind: " + ", ".join(
            f"{k} {v['latency_ms']:.0f} ms" for k, v in first.items()))
    if summary["error_kinds"]:
        lines.append("errors: " + "; ".join(f"{n}× {k}" for k, n in
                                            summary["error_kinds"].items()))
    profile = result.get("rasa_profile")
    if profile and "components" in profile:
        lines.append(f"Rasa's CPU by component (py-spy, {profile['samples']} samples, "
                     f"{profile['turns']} answered turns):")
        lines += [f"  {name:<52} {c['share']:>6.1%} {c['ms_per_turn'] or '-':>7} ms/turn"
                  for name, c in profile["components"].items()]
    elif profile:
        lines.append(f"py-spy: {profile['error']}")
    sat = result.get("saturation")
    if sat:
        lines += ["", table([{k: ("-" if v is None else v) for k, v in s.items()}
                             for s in sat["steps"]]),
                  f"saturation: {sat['saturation_rate_per_s']} turns/s offered held "
                  f"p95 <= {sat['p95_limit_ms']:.0f} ms (first failed: "
                  f"{sat['first_failed_rate_per_s']})"]
    return "\n".join(lines)


def comparison_rows(runs: Sequence[dict]) -> list[dict]:
    """One row per stack run, with ratios to the first (before/after in the same run)."""
    rows = []
    base = runs[0]["result"]["summary"]["overall"] if runs else None
    for run in runs:
        overall = run["result"]["summary"]["overall"]
        cpu = run["result"]["cpu"]
        sat = run["result"].get("saturation") or {}
        row = {"stack": run["label"], "turns": overall["turns"], "errors": overall["errors"],
               "empty": overall["empty"], "p50_ms": _fmt(overall["p50_ms"]),
               "p95_ms": _fmt(overall["p95_ms"]), "max_ms": _fmt(overall["max_ms"]),
               "turns/s": f"{overall['turns_per_s'] or 0:.2f}",
               "rasa_ms/turn": _fmt(cpu.get("rasa", {}).get("cpu_ms_per_turn")),
               "actions_ms/turn": _fmt(cpu.get("actions", {}).get("cpu_ms_per_turn")),
               "saturation/s": sat.get("saturation_rate_per_s") or "-"}
        if base and base["p95_ms"] and overall["p95_ms"]:
            row["p95_vs_first"] = f"{overall['p95_ms'] / base['p95_ms']:.2f}x"
        rows.append(row)
    return rows


# -- command line ---------------------------------------------------------------------------
def _rates(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"rates: comma-separated numbers, not {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load",
                                     description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running Rasa server on loopback, "
                                      "e.g. http://127.0.0.1:5005")
    target.add_argument("--start", action="append", type=Path, metavar="CHECKOUT",
                        help="start scripts/serve.sh of this checkout on free ports "
                             "(repeat for before/after; runs one stack at a time)")
    parser.add_argument("--action-port", type=int, default=None,
                        help="action server port for --url (default 5055 when --url is :5005)")
    parser.add_argument("--rasa-pid", type=int, help="Rasa's pid (default: found by port)")
    parser.add_argument("--actions-pid", type=int, help="the action server's pid")
    parser.add_argument("--model", action="append", default=None,
                        help="Rasa model per --start (default: the checkout's train.sh)")
    parser.add_argument("--index", type=Path, help="index for every --start (default: one "
                                                   "built per checkout from data/documents)")
    parser.add_argument("--link-shared", action="store_true",
                        help="symlink .venv, var/models, var/rasa-models into a --start "
                             "checkout that lacks them")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment of started stacks (e.g. SANIC_RESPONSE_TIMEOUT=600 "
                             "for a slow first answer on a loaded machine)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --start: measure the stacks this many times, alternating")
    parser.add_argument("--channel", default="rest", help="rest or socketio")
    parser.add_argument("--mix", default="full",
                        help="full (citizens' questions) or chat (no knowledge question: "
                             "Rasa's own capacity)")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--think", type=float, default=5.0, help="seconds between turns")
    parser.add_argument("--jitter", type=float, default=0.3)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--max-turns", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--saturation", action="store_true")
    parser.add_argument("--rates", type=_rates, default=DEFAULT_RATES)
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--p95-limit", type=float, default=1.0, help="seconds")
    parser.add_argument("--apology-pattern", default=DEFAULT_APOLOGY_PATTERN)
    parser.add_argument("--py-spy", metavar="EXECUTABLE",
                        help="sample Rasa with this py-spy during the closed-loop run (install "
                             "it outside the venvs: pip install --target /tmp/pyspy py-spy)")
    parser.add_argument("--state", type=Path, default=OUT_DIR / "load-state",
                        help="state folders of started stacks")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "load.json",
                        help="the JSON report (default var/benchmarks/load.json)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.url:
        try:
            require_loopback(args.url)
        except NotLoopbackError as exc:
            parser.error(str(exc))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request otherwise
    channel = ChannelKind.from_str(args.channel)
    mix = ScriptMix.from_str(args.mix)
    settings = LoadSettings(args.conversations, args.think, args.jitter, args.duration,
                            args.max_turns, args.timeout, channel, args.seed, mix)
    saturation = (SaturationSettings(args.rates, args.step_seconds, args.p95_limit,
                                     timeout=args.timeout, channel=channel, seed=args.seed,
                                     mix=mix)
                  if args.saturation else None)
    re.compile(args.apology_pattern)
    cpu = cpu_info()
    out: dict = {"cpu": cpu, "runs": []}
    if args.url:
        _, port = require_loopback(args.url)
        action_port = args.action_port or (5055 if port == 5005 else None)
        result = measure(args.url, settings, saturation, action_port, args.rasa_pid,
                         args.actions_pid, args.apology_pattern, args.py_spy,
                         args.out.with_suffix(".rasa-spy.txt"))
        from benchmarks.stack import pid_on_port

        actions_pid = args.actions_pid or (pid_on_port(action_port) if action_port else None)
        out["amx_used"] = amx_use(cpu, actions_pid)
        out["runs"].append({"label": args.url, "result": result})
        print(report(result, ""))
    else:
        if args.model and len(args.model) != len(args.start):
            raise SystemExit("error: give one --model per --start, or none")
        env = dict(item.split("=", 1) for item in args.env if "=" in item)
        stacks = [Stack(checkout=path, state=args.state / f"{n}-{sanitize(path.resolve().name)}",
                        model=args.model[n] if args.model else None, index=args.index,
                        link_shared=args.link_shared, env=env)
                  for n, path in enumerate(args.start)]
        for stack in stacks:
            stack.prepare()
        for _ in range(args.repeat):
            for stack in stacks:
                with stack:
                    spy_out = args.out.with_name(
                        f"{args.out.stem}.{len(out['runs'])}-rasa-spy.txt")
                    result = measure(stack.url, settings, saturation, stack.action_port,
                                     apology=args.apology_pattern, py_spy=args.py_spy,
                                     profile_out=spy_out)
                    result["startup_s"] = round(stack.startup_s or 0, 1)
                    out["amx_used"] = amx_use(cpu, result["cpu"].get("actions", {}).get("pid"))
                out["runs"].append({"label": stack.label, "result": result})
                print(f"\n== {stack.label} (started in {result['startup_s']} s)")
                print(report(result, ""))
        if len(out["runs"]) > 1:
            print("\n" + table(comparison_rows(out["runs"])))
    print(f"\nCPU: {cpu['model']} ({cpu['cores']} cores), AMX present: "
          f"{'yes' if cpu['amx'] else 'no'}, used: {out.get('amx_used')}; "
          f"load average at start {cpu['loadavg_at_start']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"written {args.out}")
    failed = any(r["result"]["summary"]["overall"]["errors"] for r in out["runs"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
