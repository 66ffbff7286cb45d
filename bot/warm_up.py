"""Every Rasa worker warms itself up before ``make run`` reports the assistant ready.

With ``SANIC_WORKERS`` > 1 (bot/lock_store.py) each worker process loads its own model, and the
first message a worker parses pays for TensorFlow tracing DIET's prediction function (≈1.5 s),
the ONNX Runtime session of the sentence featurizer and the first tracker-store, regex and
classifier calls. A warm-up conversation sent over HTTP reaches whichever worker accepts it, so
it cannot warm them all; instead each worker, once its model is loaded (``after_server_start``:
Rasa loads the agent in ``before_server_start``), sends itself a short conversation —
greeting, help, who-are-you, a button payload, thanks; no knowledge question, so the question
log the officials read gets no entry — through the same handler real messages take, then
writes ``rasa-worker-<pid>.json`` into ``RASA_WARM_UP_DIR``. ``scripts/wait_ready.py`` waits
for one such file per worker (``RASA_WORKERS``) before the "The assistant is running" banner.

Without ``RASA_WARM_UP_DIR`` (a bare ``rasa run``) nothing happens.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENV_DIR = "RASA_WARM_UP_DIR"
SENDER_PREFIX = "warm-up-"
#: Different lengths and intents, none that asks the knowledge base.
MESSAGES = ("Xin chào", "bạn có thể giúp gì cho tôi", "bạn là người hay máy",
            "/feedback_positive", "cảm ơn bạn nhiều")


def marker_path(directory: Path, pid: int) -> Path:
    return directory / f"rasa-worker-{pid}.json"


async def warm_up_worker(on_new_message: Callable[[Any], Awaitable[Any]], directory: Path,
                         messages: tuple[str, ...] = MESSAGES) -> dict:
    """Send ``messages`` through ``on_new_message`` as one conversation of this process, then
    write this worker's marker: ``{"pid", "seconds", "first_s"}`` or ``{"pid", "error"}``."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    pid = os.getpid()
    sender = f"{SENDER_PREFIX}{pid}-{int(time.time())}"
    report: dict[str, Any] = {"pid": pid}
    timings = []
    try:
        for text in messages:
            started = time.perf_counter()
            output = CollectingOutputChannel()
            await on_new_message(UserMessage(text, output, sender, input_channel="warm-up"))
            if not output.messages:
                raise RuntimeError(f"no reply to {text!r}")
            timings.append(time.perf_counter() - started)
        report.update(seconds=round(sum(timings), 2), first_s=round(timings[0], 2))
        logger.info("Rasa worker %d warmed up in %.1f s (first message %.1f s)", pid,
                    sum(timings), timings[0])
    except Exception as exc:  # noqa: BLE001 - reported to wait_ready, which fails loudly
        report["error"] = f"{type(exc).__name__}: {exc}"
        logger.exception("Rasa worker %d: the warm-up conversation failed", pid)
    directory.mkdir(parents=True, exist_ok=True)
    target = marker_path(directory, pid)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(report), encoding="utf-8")
    partial.replace(target)  # wait_ready never reads half a file
    return report


def register(blueprint: Any, on_new_message: Callable[[Any], Awaitable[Any]]) -> None:
    """Warm up every worker serving ``blueprint`` when ``RASA_WARM_UP_DIR`` is set."""
    directory = os.environ.get(ENV_DIR)
    if not directory:
        return

    @blueprint.listener("after_server_start")
    async def warm_up_this_worker(_app: Any, _loop: Any) -> None:
        await warm_up_worker(on_new_message, Path(directory))
