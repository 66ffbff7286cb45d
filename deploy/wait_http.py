"""Wait until a URL answers 200 (systemd's ExecStartPost: a unit is "started" when it serves).

    python deploy/wait_http.py http://127.0.0.1:5005/ --timeout 290
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(args.url, timeout=3) as resp:
                if resp.status == 200:
                    return 0
        except (urllib.error.URLError, OSError):
            pass  # not up yet
        time.sleep(1)
    sys.stderr.write(f"{args.url} did not answer within {args.timeout:.0f} s\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
