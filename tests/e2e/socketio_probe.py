"""Say one message to the widget's Socket.IO channel, like bot/widget/widget.js does, and print
the first reply as JSON: ``{"session": ..., "reply": {...}, "seconds": ...}``.

Runs in the Rasa venv, which has python-socketio (the knowledge venv has none)::

    .venv/rasa/bin/python tests/e2e/socketio_probe.py http://127.0.0.1:5005 "Xin chào"

``seconds`` counts from the ``user_uttered`` event to the first ``bot_uttered``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid

import socketio


async def ask(url: str, message: str, session_id: str, timeout: float) -> dict:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue = asyncio.Queue()
    uttered: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", confirmed.put)
    client.on("bot_uttered", uttered.put)
    # long-polling: engine.io's websocket client needs aiohttp >= 3.10, Rasa pins 3.9
    await client.connect(url, transports=["polling"], wait_timeout=timeout)
    try:
        await client.emit("session_request", {"session_id": session_id})
        session = await asyncio.wait_for(confirmed.get(), timeout)
        started = time.monotonic()
        await client.emit("user_uttered", {"message": message, "session_id": session})
        reply = await asyncio.wait_for(uttered.get(), timeout)
        return {"session": session, "reply": reply, "seconds": time.monotonic() - started}
    finally:
        reader = client.eio.read_loop_task
        await client.eio.disconnect(abort=True)  # do not wait for the server's next ping
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


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
