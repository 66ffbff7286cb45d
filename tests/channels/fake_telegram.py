"""A fake Telegram Bot API on 127.0.0.1, real HTTP (aiohttp.web): getMe, setWebhook,
sendMessage; records each call with its parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "123456789:TEST-token_for-the-fake-api"
BOT_USERNAME = "cchc_test_bot"


@dataclass
class FakeTelegram:
    token: str = BOT_TOKEN
    username: str = BOT_USERNAME
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    def sent_messages(self) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == "sendMessage"]

    def webhook_calls(self) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == "setWebhook"]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
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

    async def _call(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:  # aiogram sends multipart/form-data
            params = dict(await request.post())
        self.calls.append((method, params))
        if method == "getMe":
            return self._ok({"id": int(self.token.split(":")[0]), "is_bot": True,
                             "first_name": "CCHC", "username": self.username})
        if method == "setWebhook":
            return self._ok(True)
        if method == "sendMessage":
            text = params.get("text", "")
            if len(text) > 4096:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message is too long"},
                                         status=400)
            chat_id = int(params["chat_id"])
            return self._ok({"message_id": len(self.sent_messages()), "date": 1700000000,
                             "chat": {"id": chat_id, "type": "private"}, "text": text,
                             "reply_markup": json.loads(params["reply_markup"])
                             if "reply_markup" in params else None})
        return web.json_response({"ok": False, "error_code": 404,
                                  "description": "Not Found: method not found"}, status=404)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})
