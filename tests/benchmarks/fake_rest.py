"""A tiny HTTP/1.1 server on loopback that answers like Rasa's REST channel, for testing the
load driver's own logic (timing, budgets, open-loop arrivals). The real servers are exercised
by tests/e2e/test_load_smoke.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class FakeRest:
    """``reply(sender, text) -> (status, list of texts)``; requests are served one at a time
    (``service_s`` each) when ``serial``, like a single event loop doing CPU work."""

    service_s: float = 0.0
    serial: bool = False
    reply: Callable[[str, str], tuple[int, list[str]]] | None = None
    received: list[tuple[str, str]] = field(default_factory=list)
    _lock: asyncio.Lock | None = None
    _tasks: set = field(default_factory=set)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in
                               head.decode("latin-1").split("\r\n")[1:] if ": " in line)
                length = int({k.lower(): v for k, v in headers.items()}
                             .get("content-length", "0"))
                body = json.loads(await reader.readexactly(length) or b"{}")
                sender, text = body.get("sender", ""), body.get("message", "")
                self.received.append((sender, text))
                if self.serial:
                    async with self._lock:
                        await asyncio.sleep(self.service_s)
                else:
                    await asyncio.sleep(self.service_s)
                status, texts = (self.reply or (lambda s, t: (200, [f"đáp: {t}"])))(sender, text)
                payload = json.dumps([{"recipient_id": sender, "text": t} for t in texts]
                                     if status == 200 else {"error": "boom"}).encode()
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(asyncio.current_task())
            writer.close()

    @asynccontextmanager
    async def serve(self):
        """Yields the base URL (http://127.0.0.1:PORT)."""
        self._lock = asyncio.Lock()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for task in list(self._tasks):  # open keep-alive connections
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
