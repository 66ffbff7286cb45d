"""A Sanic app served on a free loopback port for one test, with an HTTP client to it."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2


@asynccontextmanager
async def serve_app(make_app, timeout: float = 60) -> AsyncIterator[httpx2.AsyncClient]:
    """Build the app with ``make_app()`` and serve it until the block ends.

    Sanic compiles its router with ``ast.parse`` at start-up. A connection task of an earlier
    test's server that is garbage-collected during that parse logs a traceback, and 3.11's
    traceback module parses the source line with ``ast`` too: the nested parse trips CPython
    3.11.7's "AST constructor recursion depth mismatch". So earlier garbage is collected before
    the app is built, and this server's tasks are finished before its loop closes.
    """
    gc.collect()
    app = make_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                                      timeout=timeout) as client:
            yield client
    finally:
        await server.before_stop()
        for conn in list(getattr(server, "connections", ())):
            conn.close_if_idle()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        sock.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
