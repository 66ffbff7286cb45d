"""The scaled-out form under load: the same load benchmark against 1 Rasa + 1 action server and
2 Rasa + 2 action servers behind nginx, with PostgreSQL and Redis, on this machine.

    .venv/kb/bin/python -m benchmarks.scale_out --model var/rasa-models/cchc-….tar.gz
    .venv/kb/bin/python -m benchmarks.scale_out --model … --forms 1+1,2+2 --duration 120 \\
        --saturation

Each form is what deploy/README.md deploys (tests/support/cluster.py starts it on loopback:
``initdb``/``postgres`` as an unprivileged user, ``redis-server``, nginx from
``deploy/nginx/render.py``, ``rasa run --endpoints deploy/rasa/endpoints.yml``,
``python -m actions.server``), all in temporary folders; the load goes through nginx's public
port (REST, hashed on the conversation: here a new sender per conversation, so conversations
spread over the replicas). One form at a time, stopped before the next starts; the table gives
each form's figures and its throughput relative to the first. On a 2-core machine two replicas
share the same two cores: the point is that the deployment adds machines, not that it speeds up
one. JSON under var/benchmarks/ (``--out``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from benchmarks.common import OUT_DIR, table
from benchmarks.conversation import ChannelKind, ScriptMix
from benchmarks.load import (
    DEFAULT_RATES,
    LoadSettings,
    SaturationSettings,
    _fmt,
    measure,
    report,
)
from benchmarks.stack import cpu_info

logger = logging.getLogger("benchmarks.scale_out")


def parse_form(text: str) -> tuple[int, int]:
    """``"2+2"`` → (2 Rasa replicas, 2 action servers).

    >>> parse_form("2+1")
    (2, 1)
    """
    rasa, actions = (int(part) for part in text.split("+"))
    if rasa < 1 or actions < 1:
        raise ValueError(f"a form needs at least one of each: {text}")
    return rasa, actions


def form_rows(runs: list[dict]) -> list[dict]:
    """One row per form: latency, throughput, saturation and CPU of each kind of server."""
    rows, first = [], None
    for run in runs:
        result = run["result"]
        overall = result["summary"]["overall"]
        cpu = result["cpu"]
        turns = overall["turns"] - overall["errors"] or 1
        rasa_cpu = sum(e.get("cpu_s") or 0 for n, e in cpu.items() if n.startswith("rasa"))
        actions_cpu = sum(e.get("cpu_s") or 0 for n, e in cpu.items()
                          if n.startswith("actions"))
        sat = result.get("saturation", {}).get("saturation_rate_per_s")
        row = {"form": run["form"], "turns": overall["turns"], "errors": overall["errors"],
               "empty": overall["empty"], "p50_ms": _fmt(overall["p50_ms"]),
               "p95_ms": _fmt(overall["p95_ms"]), "max_ms": _fmt(overall["max_ms"]),
               "turns/s": f"{overall['turns_per_s'] or 0:.2f}",
               "rasa_ms/turn": f"{rasa_cpu / turns * 1000:.0f}",
               "actions_ms/turn": f"{actions_cpu / turns * 1000:.0f}",
               "saturation/s": sat if sat is not None else "-"}
        if first is None:
            first = sat
        elif first and sat:
            row["saturation_vs_first"] = f"{sat / first:.2f}x"
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the trained Rasa model (.tar.gz)")
    parser.add_argument("--forms", default="1+1,2+2", help="Rasa+actions, comma-separated")
    parser.add_argument("--documents", default="data/documents")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--saturation", action="store_true")
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--channel", default="rest")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "scale_out.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    from tests.support.cluster import scaled_out  # PostgreSQL, Redis, nginx helpers

    forms = [parse_form(f) for f in args.forms.split(",")]
    channel = ChannelKind.from_str(args.channel)
    settings = LoadSettings(conversations=args.conversations, think=args.think,
                            duration=args.duration, channel=channel, mix=ScriptMix.FULL)
    saturation = (SaturationSettings(DEFAULT_RATES, args.step_seconds, channel=channel)
                  if args.saturation else None)
    cpu = cpu_info()
    out: dict = {"cpu": cpu, "runs": []}
    for rasa, actions in forms:
        label = f"{rasa}+{actions}"
        with tempfile.TemporaryDirectory(prefix=f"cchc-scale-{label}-") as folder:
            with scaled_out(args.model, Path(folder), rasa, actions,
                            documents=args.documents) as stack:
                servers = {**{f"rasa{i}": p for i, p in enumerate(stack.rasa_ports)},
                           **{f"actions{i}": p for i, p in enumerate(stack.action_ports)}}
                result = measure(stack.public, settings, saturation, None, servers=servers)
        out["runs"].append({"form": label, "result": result})
        print(f"\n== {label} behind nginx")
        print(report(result, ""))
    print("\n" + table(form_rows(out["runs"])))
    print(f"\nCPU: {cpu['model']} ({cpu['cores']} cores), AMX present: "
          f"{'yes' if cpu['amx'] else 'no'}; load average at start {cpu['loadavg_at_start']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
