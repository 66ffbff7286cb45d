"""``python -m console [serve] --port 8080`` and ``python -m console add-user NAME --role editor``.

The password of ``add-user`` is asked twice on a terminal, or read from the first line of
standard input (``printf '%s\\n' "$PW" | python -m console add-user an --role viewer``).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

from console.config import ConsoleConfig, CookieSecurity
from console.users import Role, UserStore

logger = logging.getLogger("console")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m console",
                                     description="Bảng điều khiển nội bộ của Trợ lý CCHC")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the web console (default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--index", type=Path, help="index folder (default KB_INDEX or var/index)")
    serve.add_argument("--uploads", type=Path, help="uploads folder (default var/uploads)")
    serve.add_argument("--source-dir", type=Path, action="append", dest="source_dirs",
                       help="another folder whose documents may be edited (repeatable; "
                            "default data/documents)")
    serve.add_argument("--question-log",
                       help="SQLite file or postgresql:// URL (default KB_QUESTION_LOG)")
    serve.add_argument("--users", type=Path, help="users file (default var/console/users.json)")
    serve.add_argument("--rasa-url", help="Rasa server for the demo page's widget")
    serve.add_argument("--secure-cookies", choices=[c.value for c in CookieSecurity])
    serve.add_argument("--workers", type=int, help="worker processes (default CONSOLE_WORKERS "
                                                   "or 1); they share sessions and limits")
    add = sub.add_parser("add-user", help="add (or --replace) a console user")
    add.add_argument("name")
    add.add_argument("--role", default="viewer", choices=[r.value for r in Role])
    add.add_argument("--users", type=Path)
    add.add_argument("--replace", action="store_true", help="reset an existing user")
    rm = sub.add_parser("remove-user", help="remove a console user")
    rm.add_argument("name")
    rm.add_argument("--users", type=Path)
    ls = sub.add_parser("list-users", help="list console users")
    ls.add_argument("--users", type=Path)
    return parser


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ConsoleConfig.from_env(
        **({"users_file": args.users} if getattr(args, "users", None) else {}))
    store = UserStore(config.users_file)
    if args.command == "add-user":
        try:
            user = store.add(args.name, _read_password(), Role.from_str(args.role), args.replace)
        except ValueError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
        sys.stdout.write(f"user {user.name} ({user.role.value}) saved in {config.users_file}\n")
        return 0
    if args.command == "remove-user":
        removed = store.remove(args.name)
        sys.stdout.write(("removed " if removed else "no such user ") + args.name + "\n")
        return 0 if removed else 1
    if args.command == "list-users":
        for user in store.list():
            sys.stdout.write(f"{user.name}\t{user.role.value}\n")
        return 0

    overrides = {"index_dir": args.index, "uploads_dir": args.uploads,
                 "question_log": args.question_log, "rasa_url": args.rasa_url,
                 "source_dirs": tuple(args.source_dirs) if args.source_dirs else None,
                 "cookie_security": CookieSecurity.from_str(args.secure_cookies)
                 if args.secure_cookies else None, "workers": args.workers}
    config = ConsoleConfig.from_env(**{**{"users_file": config.users_file}, **overrides})
    if not store.list():
        logger.warning("no console users yet: add one with "
                       "'.venv/kb/bin/python -m console add-user NAME --role editor'")
    from console.app import create_app  # Sanic only for the server
    from console.state import StateUnavailable

    try:
        app = create_app(config)
    except StateUnavailable as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    store = (f"Redis {config.session_redis_url.rpartition('@')[2]}"
             if config.session_redis_url else str(config.session_db))
    logger.info("console on http://%s:%d with %d worker(s) (index %s, uploads %s, sessions %s%s)",
                args.host, args.port, config.workers, config.index_dir, config.uploads_dir,
                store, ", behind a proxy" if config.behind_proxy else "")
    # the workers share sessions and login counters (SQLite or Redis) and take turns to change
    # the index (a file lock)
    app.run(host=args.host, port=args.port, access_log=False, motd=False,
            workers=config.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
