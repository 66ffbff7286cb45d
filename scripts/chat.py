"""Chat with the running assistant in a terminal, through the REST channel."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid


def send(url: str, sender: str, message: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read().decode("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    print("Trợ lý CCHC — gõ câu hỏi rồi Enter; Ctrl-D hoặc /thoat để thoát.")
    while True:
        try:
            message = input("Bạn: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if message in ("/thoat", "/quit", "/exit"):
            return 0
        if not message:
            continue
        try:
            replies = send(args.url, args.sender, message)
        except (urllib.error.URLError, OSError) as exc:
            print(f"(không kết nối được tới {args.url}: {exc}; máy chủ đã chạy chưa? 'make run')",
                  file=sys.stderr)
            continue
        for reply in replies:
            if reply.get("text"):
                print("Trợ lý: " + reply["text"].replace("\n", "\n        "))
            for button in reply.get("buttons", []):
                print(f"        [{button.get('title')}]")


if __name__ == "__main__":
    sys.exit(main())
