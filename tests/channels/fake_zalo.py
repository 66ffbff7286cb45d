"""A fake Zalo API (OA messages + OAuth refresh) on 127.0.0.1, real HTTP (aiohttp.web).

It records every call, checks the access token like Zalo does (error -216 for a wrong or
expired one), rotates both tokens on refresh, and can be told to fail the next message calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "1234567890123456789"
APP_SECRET = "app-secret-for-tests"


@dataclass
class FakeZalo:
    access_token: str = "access-1"
    refresh_token: str = "refresh-1"
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    message_calls: list[dict[str, Any]] = field(default_factory=list)  # every POST /message/cs
    delivered: list[dict[str, str]] = field(default_factory=list)  # {"user_id", "text"}
    refresh_calls: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[str] = field(default_factory=list)
    _issued: int = 1
    _runner: web.AppRunner | None = None
    base_url: str = ""

    # -- control -------------------------------------------------------------------------

    def expire_access_token(self) -> None:
        """The current access token stops working (Zalo answers -216) until a refresh."""
        self.access_token = f"expired-{self._issued}"  # nobody holds this one

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Fail the next message calls: "5xx" (HTTP 503), "outside_window" (error -230),
        "http401" (HTTP 401), "disconnect" (connection dropped)."""
        self._failures.extend([kind] * times)

    # -- server --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._message)
        app.router.add_post("/v4/oa/access_token", self._refresh)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _message(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        call = {"access_token": request.headers.get("access_token"), "json": body,
                "at": time.monotonic()}
        self.message_calls.append(call)
        if self._failures:
            kind = self._failures.pop(0)
            if kind == "5xx":
                return web.Response(status=503, text="<html>Service Unavailable</html>",
                                    content_type="text/html")
            if kind == "http401":
                return web.json_response({"error": -216, "message": "Unauthorized"}, status=401)
            if kind == "outside_window":
                return web.json_response({
                    "error": -230,
                    "message": "User has not interacted with the OA in the past 7 days"})
            if kind == "disconnect":
                request.transport.close()
                return web.Response(status=500)
            raise AssertionError(f"unknown failure kind {kind}")
        if call["access_token"] != self.access_token:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        text = body["message"]["text"]
        if len(text) > 2000:
            return web.json_response({"error": -201, "message": "text is too long"})
        self.delivered.append({"user_id": body["recipient"]["user_id"], "text": text})
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"m{len(self.delivered)}",
                                           "user_id": body["recipient"]["user_id"]}})

    async def _refresh(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post())
        self.refresh_calls.append({"secret_key": request.headers.get("secret_key"), **form})
        if (request.headers.get("secret_key") != self.app_secret
                or form.get("app_id") != self.app_id
                or form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != self.refresh_token):
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token",
                                      "error_description": "refresh token is invalid"})
        self._issued += 1
        self.access_token = f"access-{self._issued}"
        self.refresh_token = f"refresh-{self._issued}"
        return web.json_response({"access_token": self.access_token,
                                  "refresh_token": self.refresh_token, "expires_in": "90000"})
