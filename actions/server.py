"""The action server: rasa_sdk's own app (``rasa_sdk.endpoint.create_app``) behind closed doors.

``python -m actions.server`` instead of ``python -m rasa_sdk --actions actions``:

* binds ``127.0.0.1`` unless told otherwise (rasa_sdk binds ``0.0.0.0``);
* every request except ``GET /health`` must carry the shared secret in ``X-Action-Token``
  (compared in constant time): none → 401, a wrong one → 403. Rasa sends it from
  bot/endpoints.yml (``headers: X-Action-Token: ${ACTION_SERVER_TOKEN}``);
* request bodies are size-limited (413), deflate-compressed ones too after decompression;
* no CORS (only Rasa calls it, server to server) and errors do not echo the request;
* the knowledge base is loaded and one question answered before the port opens, so when
  ``/health`` answers, the server answers questions at full speed (also after a restart);
* ``--workers N`` runs N processes on one port (Sanic forks them; each loads the index).

Settings (environment, read once here): ``ACTION_SERVER_TOKEN`` (required, ≥ 16 characters),
``ACTION_SERVER_INTERFACE`` (127.0.0.1), ``ACTION_SERVER_PORT`` (5055), ``ACTION_WORKERS`` (1),
``ACTION_MAX_BODY_KB`` (8192), ``ACTION_PRELOAD`` (1; 0 = load on the first question).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

TOKEN_HEADER = "X-Action-Token"
WARMUP_QUESTION = "Kế hoạch kiểm tra công tác cải cách hành chính năm 2018"
MIN_TOKEN_LENGTH = 16

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionServerSettings:
    """
    Attributes:
        token: the shared secret Rasa sends in ``X-Action-Token``.
        interface: the address to bind (127.0.0.1; a private address to serve Rasa replicas
            on other machines; ``0.0.0.0`` only behind a firewall).
        port: the TCP port.
        workers: server processes sharing the port.
        max_body_bytes: largest accepted request body (Rasa sends the whole conversation).
        preload: load the knowledge base before opening the port.
        actions_package: the Python package with the actions.
    """

    token: str
    interface: str = "127.0.0.1"
    port: int = 5055
    workers: int = 1
    max_body_bytes: int = 8 * 1024 * 1024
    preload: bool = True
    actions_package: str = "actions"

    def __post_init__(self) -> None:
        if len(self.token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"ACTION_SERVER_TOKEN must have at least {MIN_TOKEN_LENGTH} "
                             "characters (scripts/serve.sh makes one in var/secrets/action-token)")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port must be 1-65535, got {self.port}")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be 1-64, got {self.workers}")
        if self.max_body_bytes < 64 * 1024:
            raise ValueError(f"the body limit must be >= 64 KB, got {self.max_body_bytes} bytes")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> ActionServerSettings:
        """Read the ``ACTION_*`` variables; ``overrides`` (not None) win."""
        env = os.environ if env is None else env
        values: dict = {"token": env.get("ACTION_SERVER_TOKEN", "")}
        if env.get("ACTION_SERVER_INTERFACE"):
            values["interface"] = env["ACTION_SERVER_INTERFACE"]
        for name, key, convert in (("port", "ACTION_SERVER_PORT", int),
                                   ("workers", "ACTION_WORKERS", int),
                                   ("max_body_bytes", "ACTION_MAX_BODY_KB",
                                    lambda v: int(v) * 1024)):
            if env.get(key):
                try:
                    values[name] = convert(env[key])
                except ValueError:
                    raise ValueError(f"{key} must be a whole number, got {env[key]!r}") from None
        if env.get("ACTION_PRELOAD"):
            values["preload"] = env["ACTION_PRELOAD"].strip().lower() not in ("0", "false", "no")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _inflated_size_ok(body: bytes, limit: int) -> bool:
    """Whether a deflate body inflates to at most ``limit`` bytes (decompressing no more)."""
    inflater = zlib.decompressobj()
    try:
        inflater.decompress(body, limit)
    except zlib.error:
        return True  # not valid deflate: rasa_sdk's handler rejects it
    return not inflater.unconsumed_tail


def create_app(settings: ActionServerSettings):
    """rasa_sdk's Sanic app for ``settings.actions_package`` with the token check, the body
    limits and the knowledge-base preload. Creates one app per process (Sanic's registry)."""
    from rasa_sdk import endpoint
    from sanic import response

    app = endpoint.create_app(settings.actions_package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    expected = settings.token.encode("utf-8")

    async def require_token(request):
        if request.path == "/health":
            return None
        given = request.headers.get(TOKEN_HEADER)
        if not given:
            logger.warning("action call without %s from %s: rejected", TOKEN_HEADER,
                           request.ip)
            return response.json({"error": "missing action token"}, status=401)
        if not hmac.compare_digest(given.encode("utf-8"), expected):
            logger.warning("action call with a wrong %s from %s: rejected", TOKEN_HEADER,
                           request.ip)
            return response.json({"error": "invalid action token"}, status=403)
        if (request.headers.get("Content-Encoding") == "deflate"
                and not _inflated_size_ok(request.body, settings.max_body_bytes)):
            return response.json({"error": "request body too large"}, status=413)
        return None

    app.register_middleware(require_token, "request")

    async def server_error(request, exception):
        # rasa_sdk's own handler echoes the request body back: log it here, answer briefly
        logger.error("action server error on %s", request.path, exc_info=exception)
        status = getattr(exception, "status_code", 500)
        return response.json({"error": type(exception).__name__}, status=status)

    app.error_handler.add(Exception, server_error)

    if settings.preload:
        async def preload(app, loop) -> None:
            await loop.run_in_executor(None, warm_up)

        app.register_listener(preload, "before_server_start")
    return app


def warm_up() -> None:
    """Load the knowledge base and answer one question, outside any conversation. A missing
    or broken index is logged, not fatal: the actions then apologise to users."""
    from actions.knowledge_client import get_knowledge_base
    from knowledge.index.store import IndexError_

    try:
        get_knowledge_base().ask(WARMUP_QUESTION)
        logger.info("knowledge base loaded")
    except IndexError_ as exc:
        logger.error("knowledge base not loaded at start-up (%s); questions will be answered "
                     "with an apology until an index is there", exc)
    except Exception:
        logger.exception("knowledge base not loaded at start-up; questions will be answered "
                         "with an apology until it loads")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m actions.server",
                                     description="The assistant's action server (rasa_sdk).")
    parser.add_argument("--interface", help="address to bind (ACTION_SERVER_INTERFACE, "
                                            "default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (ACTION_SERVER_PORT, default 5055)")
    parser.add_argument("--workers", type=int, help="processes (ACTION_WORKERS, default 1)")
    parser.add_argument("--actions", dest="actions_package", help="actions package")
    parser.add_argument("--no-preload", action="store_false", dest="preload", default=None,
                        help="load the knowledge base on the first question")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = ActionServerSettings.from_env(**vars(args))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    app = create_app(settings)
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # as rasa_sdk.endpoint.run does
    logger.info("action server on http://%s:%d (%d worker%s)", settings.interface, settings.port,
                settings.workers, "" if settings.workers == 1 else "s")
    app.run(host=settings.interface, port=settings.port, workers=settings.workers,
            access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
