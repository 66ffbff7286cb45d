"""HTTP-level protections of the console: request body limits per route, and who is the
client (address and scheme) behind a reverse proxy.

* Sanic reads a request's body before any middleware runs; :class:`ConsoleRequest` lowers the
  limit first: ``max_form_bytes`` everywhere, ``max_upload_bytes`` (+256 KB of form) only for
  ``POST /upload`` by a signed-in editor. Over the limit Sanic stops reading and the app
  answers 413.
* Forwarding headers (``X-Forwarded-For``/``-Proto``, ``X-Real-IP``, ``Forwarded``) are read
  only when the console is configured to stand behind a proxy (Sanic's ``PROXIES_COUNT``,
  ``REAL_IP_HEADER``, ``FORWARDED_SECRET``) and only from a peer in ``trusted_proxies``; then
  the login limits see the real client address and the session cookie gets ``Secure`` when
  the proxy says the client used https.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import PayloadTooLarge

from console.config import ConsoleConfig

UPLOAD_PATH = "/upload"
UPLOAD_FORM_BYTES = 256 * 1024  # the upload form's other fields and multipart framing


class ConsoleRequest(Request):
    """A Sanic request with a body limit per route and forwarding headers from trusted proxies
    only. The app sets ``app.ctx.body_limit`` (an async function of the request) and
    ``app.ctx.console_config``."""

    async def receive_body(self) -> None:
        stream = self.stream
        limit: Callable[[Request], Awaitable[int]] | None = getattr(self.app.ctx, "body_limit",
                                                                    None)
        if stream is not None and limit is not None:
            stream.request_max_size = min(stream.request_max_size, await limit(self))
        try:
            await super().receive_body()
        except PayloadTooLarge:
            # Sanic runs the request middleware again to answer an error: it must know
            self.ctx.body_refused = True
            raise

    @property
    def forwarded(self) -> Any:
        config: ConsoleConfig | None = getattr(self.app.ctx, "console_config", None)
        if self.parsed_forwarded is None and (
                config is None or not config.is_trusted_proxy(self.ip)):
            self.parsed_forwarded = {}  # headers of an untrusted peer are ignored
        return super().forwarded


def configure_proxy(app: Sanic, config: ConsoleConfig) -> None:
    """Sanic's proxy settings from the console's (none of them unless configured)."""
    app.config.PROXIES_COUNT = config.proxies_count or None
    app.config.REAL_IP_HEADER = config.real_ip_header or None
    app.config.FORWARDED_SECRET = config.forwarded_secret or None


def client_address(request: Request) -> str:
    """The client's address: from the trusted proxy's headers when configured, else the
    socket's peer."""
    return str(request.remote_addr or request.ip or "?")
