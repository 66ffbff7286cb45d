"""Wait until the Rasa server and the action server answer, then warm both up, so that the
first citizen's question is as fast as the ones after it.

- The action server: one ``action_answer_question`` call outside any conversation (the first
  question would otherwise pay for loading the embedding model, the index and underthesea).
- Every Rasa worker (``--rasa-workers``, Sanic workers sharing one port) warms itself up once
  its model is loaded and reports it in ``--warm-up-dir`` (bot/warm_up.py): an HTTP
  conversation would reach only the worker that accepts it. This waits for one report per
  worker, from a live process, and fails on a worker whose warm-up failed.
- Rasa: a short conversation through its REST channel from a dedicated sender
  (``warm-up-…``): a greeting, help, who-are-you, a button payload and thanks — no knowledge
  question, so the question log the officials read gets no entry. The first message Rasa
  parses after loading pays for TensorFlow tracing DIET's prediction function again (≈1.5 s
  measured, more under load) and for the first tracker-store, regex and classifier calls; the
  warm-up pays them instead (docs/benchmarks.md, "Load").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.warm_up import MESSAGES  # noqa: E402  (stdlib only: no Rasa in this venv)

WARMUP_QUESTION = "Kế hoạch kiểm tra công tác cải cách hành chính năm 2018"
#: Rasa warm-up turns: different lengths and intents, none that asks the knowledge base.
RASA_WARMUP_MESSAGES = MESSAGES  # the same short conversation each worker sends itself


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _post_json(url: str, payload: dict, timeout: float,
               headers: dict[str, str] | None = None) -> bytes:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def _retry(call, deadline: float, what: str):
    """``call()`` again while it fails with a server error or a timeout (a server still loading
    on a busy machine: the action server's Sanic gives up on a request after 60 s while the
    knowledge base goes on loading in its thread), until ``deadline`` (time.monotonic)."""
    while True:
        try:
            return call()
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or time.monotonic() > deadline:
                raise
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise
            reason = str(getattr(exc, "reason", exc))
        print(f"[run] {what}: {reason}; still loading, trying again", flush=True)
        time.sleep(2)


def warm_up(actions_url: str) -> None:
    """Run action_answer_question once on the action server, outside any conversation."""
    tracker = {
        "sender_id": "warm-up", "slots": {}, "latest_message": {
            "text": WARMUP_QUESTION, "intent": {"name": "ask_knowledge", "confidence": 1.0},
            "entities": []},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen",
    }
    headers = {}
    if os.environ.get("ACTION_SERVER_TOKEN"):  # the action server's shared secret
        headers["X-Action-Token"] = os.environ["ACTION_SERVER_TOKEN"]
    _post_json(actions_url + "/webhook", {"next_action": "action_answer_question",
                                          "sender_id": "warm-up", "tracker": tracker,
                                          "domain": {}, "version": "3.6.21"}, timeout=300,
               headers=headers)


def warm_up_rasa(rasa_url: str, timeout: float = 300) -> list[float]:
    """A warm-up conversation through Rasa's REST channel; seconds per message."""
    sender = f"warm-up-{os.getpid()}-{int(time.time())}"
    seconds = []
    for text in RASA_WARMUP_MESSAGES:
        start = time.monotonic()
        _post_json(rasa_url + "/webhooks/rest/webhook", {"sender": sender, "message": text},
                   timeout=timeout)
        seconds.append(time.monotonic() - start)
    return seconds


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def warmed_workers(directory: Path) -> tuple[dict[int, dict], list[str]]:
    """Warm-up reports of live Rasa workers in ``directory`` and the errors among them."""
    reports, errors = {}, []
    for path in sorted(directory.glob("rasa-worker-*.json")):
        try:
            report = json.loads(path.read_text("utf-8"))
            pid = int(report["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid):
            continue
        if report.get("error"):
            errors.append(f"worker {pid}: {report['error']}")
        reports[pid] = report
    return reports, errors


def wait_for_workers(directory: Path, workers: int, deadline: float) -> bool:
    last = -1
    while True:
        reports, errors = warmed_workers(directory)
        if errors:
            print("[run] error: Rasa warm-up failed (" + "; ".join(errors) + ")",
                  file=sys.stderr)
            return False
        if len(reports) != last:
            last = len(reports)
            for pid, report in sorted(reports.items()):
                print(f"[run] Rasa worker {pid} warmed up in {report.get('seconds', 0):.1f} s "
                      f"(first message {report.get('first_s', 0):.1f} s)", flush=True)
        if len(reports) >= workers:
            return True
        if time.monotonic() > deadline:
            print(f"[run] error: {len(reports)} of {workers} Rasa workers warmed up in time",
                  file=sys.stderr)
            return False
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rasa", required=True)
    parser.add_argument("--actions", required=True)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--pids", nargs="*", type=int, default=[])
    parser.add_argument("--rasa-workers", type=int, default=1)
    parser.add_argument("--warm-up-dir", type=Path,
                        help="where each Rasa worker reports its warm-up (bot/warm_up.py)")
    args = parser.parse_args()
    start = time.time()
    pending = {"action server": args.actions + "/health",
               "Rasa server": args.rasa + "/webhooks/rest/"}
    while pending:
        for name, url in list(pending.items()):
            if _get(url):
                print(f"[run] {name} ready after {time.time() - start:.0f} s", flush=True)
                del pending[name]
        for pid in args.pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print(f"[run] error: process {pid} exited", file=sys.stderr)
                return 1
        if time.time() - start > args.timeout:
            print(f"[run] error: not ready after {args.timeout:.0f} s: {', '.join(pending)}",
                  file=sys.stderr)
            return 1
        if pending:
            time.sleep(1)
    t = time.time()
    deadline = time.monotonic() + args.timeout
    try:
        _retry(lambda: warm_up(args.actions), deadline, "action server warm-up")
    except (urllib.error.URLError, OSError) as exc:
        print(f"[run] error: the action server warm-up failed: {exc}", file=sys.stderr)
        return 1
    print(f"[run] knowledge base loaded in {time.time() - t:.0f} s", flush=True)
    if args.warm_up_dir is not None and not wait_for_workers(args.warm_up_dir,
                                                             args.rasa_workers, deadline):
        return 1
    try:
        seconds = _retry(lambda: warm_up_rasa(args.rasa, timeout=args.timeout), deadline,
                         "Rasa warm-up")
    except (urllib.error.URLError, OSError) as exc:
        print(f"[run] error: the Rasa warm-up conversation failed: {exc}", file=sys.stderr)
        return 1
    print(f"[run] Rasa warmed up in {sum(seconds):.1f} s (first message {seconds[0]:.1f} s, "
          f"last {seconds[-1]:.2f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
