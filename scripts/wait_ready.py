"""Wait until the Rasa server and the action server answer, then warm the action server up
(the first question would otherwise pay for loading the embedding model and underthesea)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

WARMUP_QUESTION = "Kế hoạch kiểm tra công tác cải cách hành chính năm 2018"


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def warm_up(actions_url: str) -> None:
    """Run action_answer_question once on the action server, outside any conversation."""
    tracker = {
        "sender_id": "warm-up", "slots": {}, "latest_message": {
            "text": WARMUP_QUESTION, "intent": {"name": "ask_knowledge", "confidence": 1.0},
            "entities": []},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen",
    }
    body = json.dumps({"next_action": "action_answer_question", "sender_id": "warm-up",
                       "tracker": tracker, "domain": {}, "version": "3.6.21"}).encode()
    headers = {"Content-Type": "application/json"}
    if os.environ.get("ACTION_SERVER_TOKEN"):  # the action server's shared secret
        headers["X-Action-Token"] = os.environ["ACTION_SERVER_TOKEN"]
    req = urllib.request.Request(actions_url + "/webhook", data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=300) as resp:
        resp.read()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rasa", required=True)
    parser.add_argument("--actions", required=True)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--pids", nargs="*", type=int, default=[])
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
    warm_up(args.actions)
    print(f"[run] knowledge base loaded in {time.time() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
