"""Say one message to the widget's Socket.IO channel, like bot/widget/widget.js does, and print
the first reply as JSON: ``{"session": ..., "reply": {...}, "seconds": ...}``.

It speaks Engine.IO 4 / Socket.IO 5 over a WebSocket, the transport browsers use (``0`` open,
``40`` connect, ``42[...]`` events, ``2``/``3`` ping/pong), with the ``websockets`` package that
both venvs have (python-socketio's own client needs aiohttp >= 3.10 for WebSockets; Rasa pins
3.9, and long-polling cannot serve a stack whose Rasa runs several workers: each poll may reach
another process)::

    .venv/rasa/bin/python tests/e2e/socketio_probe.py http://127.0.0.1:5005 "Xin chào"

``seconds`` counts from the ``user_uttered`` event to the first ``bot_uttered``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from urllib.parse import urlsplit

import websockets


async def _event(ws, name: str, timeout: float) -> object:
    """The payload of the next ``name`` event, answering pings meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        packet = str(await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01)))
        if packet == "2":
            await ws.send("3")
        elif packet.startswith("42"):
            event, *args = json.loads(packet[2:])
            if event == name:
                return args[0] if args else None
        elif packet.startswith(("44", "1")):
            raise ConnectionError(f"closed by the server: {packet[:200]}")


async def ask(url: str, message: str, session_id: str, timeout: float) -> dict:
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    endpoint = f"{scheme}://{parts.netloc}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(endpoint, open_timeout=timeout, max_size=2**22) as ws:
        opened = str(await asyncio.wait_for(ws.recv(), timeout))
        if not opened.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {opened[:80]!r}")
        await ws.send("40")
        await ws.send("42" + json.dumps(["session_request", {"session_id": session_id}]))
        confirmed = await _event(ws, "session_confirm", timeout)
        session = confirmed.get("session_id") if isinstance(confirmed, dict) else confirmed
        started = time.monotonic()
        await ws.send("42" + json.dumps(["user_uttered", {"message": message,
                                                          "session_id": session}],
                                        ensure_ascii=False))
        reply = await _event(ws, "bot_uttered", timeout)
        return {"session": session, "reply": reply, "seconds": time.monotonic() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("message")
    parser.add_argument("--session", default=uuid.uuid4().hex)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    result = asyncio.run(ask(args.url, args.message, args.session, args.timeout))
    json.dump(result, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
