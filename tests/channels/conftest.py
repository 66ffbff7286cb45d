"""Channel tests run in the Rasa venv (.venv/rasa): the real Rasa app from
``rasa.core.run.configure_app`` served on 127.0.0.1, outbound calls to local fake APIs.

Under the knowledge venv (no Rasa installed) this folder is skipped.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

if importlib.util.find_spec("rasa") is None:  # pragma: no cover - knowledge venv
    collect_ignore_glob = ["*.py"]
else:
    import pytest
    from rasa.core.channels.channel import InputChannel, UserMessage
    from rasa.core.run import configure_app
    from sanic import Sanic

    Sanic.test_mode = True  # one Sanic app per test, same name

    Answer = Callable[[UserMessage], list[dict[str, Any]]]

    class RecordingAgent:
        """Stands in for ``rasa.core.agent.Agent`` on ``app.ctx.agent``: records each
        UserMessage and sends the answers through the message's own output channel with
        ``OutputChannel.send_response`` — what Agent.handle_message does after prediction."""

        def __init__(self, answer: Answer) -> None:
            self.answer = answer
            self.messages: list[UserMessage] = []

        async def handle_message(self, message: UserMessage) -> None:
            self.messages.append(message)
            for reply in self.answer(message):
                await message.output_channel.send_response(message.sender_id, reply)

    def echo(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": f"Bạn hỏi: {message.text}"}]

    @asynccontextmanager
    async def serve_channel(channel: InputChannel,
                            answer: Answer = echo) -> AsyncIterator[tuple[str, RecordingAgent]]:
        """Serve ``configure_app([channel])`` on a free loopback port; yield (url, agent)."""
        app = configure_app([channel], enable_api=False)
        agent = RecordingAgent(answer)
        app.ctx.agent = agent
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = await app.create_server(sock=sock, return_asyncio_server=True,
                                         access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        try:
            yield f"http://127.0.0.1:{port}", agent
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()
            sock.close()

    @pytest.fixture
    def channel_server():
        return serve_channel
