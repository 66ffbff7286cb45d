"""The console's web application (Sanic 21.12, server-rendered Jinja2 pages, autoescaped)."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import logging
import math
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic, response
from sanic.exceptions import NotFound, PayloadTooLarge
from sanic.response import HTTPResponse

from console.config import ConsoleConfig, CookieSecurity
from console.documents import (
    EDITABLE_FIELDS,
    FIELD_LABELS,
    UPLOAD_SUFFIXES,
    ConsoleError,
    DocumentLibrary,
    passages,
)
from console.security import (
    UPLOAD_FORM_BYTES,
    UPLOAD_PATH,
    ConsoleRequest,
    client_address,
    configure_proxy,
)
from console.state import LoginThrottle, Session, SessionStore, StateUnavailable, open_state
from console.users import UserStore
from knowledge.answering.links import allowed_link
from knowledge.answering.reply import DOCUMENT_PAGE_PATH, document_page_url
from knowledge.index.store import IndexError_
from knowledge.question_log import LogFilter, QuestionLog

logger = logging.getLogger(__name__)

COOKIE = "cchc_console"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_STATIC = Path(__file__).resolve().parent / "static"
_DEMO_URL_ATTR = 'data-rasa-url="http://127.0.0.1:5005"'
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_app_numbers = itertools.count(1)


def _csp(connect: str = "'self'") -> str:
    return ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"connect-src {connect}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'")


def _spreadsheet_safe(text: str) -> str:
    """Neutralise cells a spreadsheet would run as formulas (citizens type the questions)."""
    out = io.StringIO()
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    writer = csv.writer(out)
    out.write("\ufeff")
    for n, row in enumerate(rows):
        writer.writerow(row if n == 0 else
                        [f"'{c}" if c.startswith(_CSV_FORMULA) else c for c in row])
    return out.getvalue()


def _is_public_document(path: str) -> bool:
    """The public page of a document (no login, no console session)."""
    return path == DOCUMENT_PAGE_PATH or path.startswith(DOCUMENT_PAGE_PATH + "/")


def _needs_no_session(request: Request) -> bool:
    """Pages for citizens and files: no session is read or made (no store access, no cookie)."""
    path = request.path
    if request.method in ("GET", "HEAD") and (_is_public_document(path) or path in (
            "/health", "/demo", "/favicon.ico")):
        return True
    return path.startswith(("/widget/", "/static/"))


def _warm_up_reader(library: DocumentLibrary) -> None:
    """Start the upload readers' fork server now, not on the first upload (a few seconds)."""
    try:
        library.extractor.start()
    except (OSError, RuntimeError) as exc:
        logger.warning("could not start the upload reader in advance: %s", exc)


def _size(count: int) -> str:
    """``20 MB``, ``64 KB``."""
    if count >= 1024 * 1024:
        return f"{count / 1048576:.0f} MB"
    return f"{count / 1024:.0f} KB"


def _day_start(value: str) -> float | None:
    try:
        return time.mktime(date.fromisoformat(value).timetuple())
    except ValueError:
        return None


def create_app(config: ConsoleConfig, library: DocumentLibrary | None = None,
               users: UserStore | None = None, question_log: QuestionLog | None = None,
               throttle: LoginThrottle | None = None,
               sessions: SessionStore | None = None) -> Sanic:
    """The console app; collaborators are injectable for tests. Sessions and login counters
    live in the SQLite file ``config.session_db`` or in Redis (``config.session_redis_url``),
    shared by every worker.

    Raises:
        StateUnavailable: the configured Redis does not answer.
    """
    app = Sanic(f"cchc_console_{next(_app_numbers)}", configure_logging=False,
                request_class=ConsoleRequest)
    app.config.REQUEST_MAX_SIZE = config.max_upload_bytes + UPLOAD_FORM_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "html"
    configure_proxy(app, config)
    library = library or DocumentLibrary(config)
    users = users or UserStore(config.users_file)
    qlog = question_log or QuestionLog(config.question_log)
    if sessions is None or throttle is None:
        default_sessions, default_throttle = open_state(
            config.session_db, config.session_redis_url, config.session_idle_seconds,
            config.login_limits)
        sessions, throttle = sessions or default_sessions, throttle or default_throttle
    app.ctx.library, app.ctx.users, app.ctx.question_log = library, users, qlog
    app.ctx.throttle, app.ctx.sessions = throttle, sessions
    app.ctx.console_config = config
    state_pool: dict[str, ThreadPoolExecutor] = {}  # one per worker process, made at start

    async def state(fn: Callable, *args):
        """Run a (blocking) session-store or throttle call off the event loop."""
        pool = state_pool.get("pool")
        if pool is None:
            pool = state_pool.setdefault("pool", ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="console-state"))
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    env = Environment(loader=FileSystemLoader(_TEMPLATES),
                      autoescape=select_autoescape(["html"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(labels=FIELD_LABELS, editable_fields=EDITABLE_FIELDS,
                       public_page=lambda doc_id: document_page_url("", doc_id),
                       allowed_link=lambda url: allowed_link(url or "",
                                                             config.source_link_domains))
    env.filters["datetime"] = lambda ts: time.strftime("%d/%m/%Y %H:%M", time.localtime(ts))
    env.filters["vndate"] = (lambda iso: datetime.strptime(iso, "%Y-%m-%d").strftime("%d/%m/%Y")
                             if iso and len(iso) == 10 else iso)

    def render(request: Request, name: str, status: int = 200, **context) -> HTTPResponse:
        session: Session = request.ctx.session
        html = env.get_template(name).render(session=session, flashes=session.pop_flashes(),
                                             csrf=session.csrf, path=request.path, **context)
        return response.html(html, status=status)

    def redirect(to: str) -> HTTPResponse:
        return response.redirect(to, status=303)

    def bare_page(title: str, message: str, status: int, back: str = "/documents"
                  ) -> HTTPResponse:
        """A page that needs no session (errors met before or without one)."""
        return response.html(env.get_template("error.html").render(
            session=Session("", "", 0.0), flashes=[], csrf="", path="", title=title,
            message=message, back=back), status=status)

    def unavailable_page() -> HTTPResponse:
        return bare_page("Tạm thời gián đoạn", "Bảng điều khiển tạm thời không truy cập được "
                         "kho phiên làm việc. Bạn vui lòng thử lại sau ít phút.", 503)

    # -- request bodies ------------------------------------------------------------------------
    async def body_limit(request: Request) -> int:
        """``max_form_bytes``, or the upload size for ``POST /upload`` by a signed-in editor
        (known from the session cookie before the body is read)."""
        if request.method == "POST" and request.path == UPLOAD_PATH:
            try:
                session = await state(sessions.get, request.cookies.get(COOKIE))
            except StateUnavailable:
                session = None
            if session is not None and session.can_edit:
                request.ctx.preloaded_session, request.ctx.upload_limit = session, True
                return config.max_upload_bytes + UPLOAD_FORM_BYTES
        return config.max_form_bytes

    app.ctx.body_limit = body_limit

    # -- sessions, CSRF, security headers ------------------------------------------------------
    @app.on_request
    async def load_session(request: Request):
        if getattr(request.ctx, "body_refused", False):  # Sanic's error path runs this too
            logger.warning("request body over the limit: %s %s from %s", request.method,
                           request.path, client_address(request))
            return too_large_page(request)
        request.ctx.session, request.ctx.new_cookie, request.ctx.saved = None, False, ""
        if _needs_no_session(request) or request.route is None:
            return None  # citizens, files, unknown paths (answered 404): no session, no cookie
        try:
            session = getattr(request.ctx, "preloaded_session", None) or await state(
                sessions.get, request.cookies.get(COOKIE))
            if session is None:
                session = await state(sessions.new)
                request.ctx.new_cookie = True
        except StateUnavailable as exc:
            logger.error("session store unavailable: %s", exc)
            return unavailable_page()
        request.ctx.session, request.ctx.saved = session, session.record()
        if request.method == "POST":
            token = request.form.get("csrf_token") if request.form else None
            if not session.csrf_ok(token):
                logger.warning("CSRF check failed for %s %s from %s", request.method,
                               request.path, client_address(request))
                request.ctx.new_cookie = True
                return response.html(env.get_template("error.html").render(
                    session=session, flashes=[], csrf=session.csrf, path=request.path,
                    title="Yêu cầu không hợp lệ",
                    message="Phiên làm việc không hợp lệ hoặc đã hết hạn. Hãy tải lại trang "
                            "và thử lại."), status=403)

    @app.on_response
    async def finish(request: Request, resp: HTTPResponse):
        session: Session | None = getattr(request.ctx, "session", None)
        if session is not None and session.id and session.record() != request.ctx.saved:
            try:
                await state(sessions.update, session)  # flashes shown or added
            except StateUnavailable as exc:
                logger.error("session store unavailable: %s", exc)
        if session is not None and session.id and getattr(request.ctx, "new_cookie", False):
            secure = (config.cookie_security is CookieSecurity.ALWAYS or (
                config.cookie_security is CookieSecurity.AUTO and request.scheme == "https"))
            resp.cookies[COOKIE] = session.id
            cookie = resp.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/"
            if secure:
                cookie["secure"] = True
        headers = resp.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/widget/", "/demo")):
            http_origin, ws_origin = config.rasa_origins
            headers.setdefault("Content-Security-Policy",
                               _csp(f"'self' {http_origin} {ws_origin}"))
        else:
            headers.setdefault("Content-Security-Policy", _csp())
            headers.setdefault("X-Frame-Options", "DENY")
            if "text/html" in (resp.content_type or ""):
                headers.setdefault("Cache-Control", "no-store")

    def login_required(request: Request) -> HTTPResponse | None:
        if request.ctx.session.user is None:
            return redirect("/login?" + urlencode({"next": request.path}))
        return None

    def editor_required(request: Request) -> HTTPResponse | None:
        denied = login_required(request)
        if denied is None and not request.ctx.session.can_edit:
            return render(request, "error.html", status=403, title="Không có quyền",
                          message="Tài khoản của bạn chỉ có quyền xem. Việc tải lên, xoá và sửa "
                                  "văn bản cần quyền biên tập (editor).")
        return denied

    # -- errors ----------------------------------------------------------------------------------
    def too_large_page(request: Request) -> HTTPResponse:
        if getattr(request.ctx, "upload_limit", False):
            return bare_page("Tệp quá lớn", f"Tệp quá lớn: giới hạn là "
                             f"{_size(config.max_upload_bytes)}. Hãy chọn tệp nhỏ hơn hoặc tách "
                             "văn bản thành nhiều tệp.", 413, UPLOAD_PATH)
        return bare_page("Yêu cầu quá lớn", f"Nội dung gửi lên quá lớn (giới hạn "
                         f"{_size(config.max_form_bytes)}) nên không được xử lý. Bạn vui lòng "
                         "quay lại và thử lại.", 413)

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, exc: PayloadTooLarge):
        return too_large_page(request)

    @app.exception(StateUnavailable)
    async def state_unavailable(request: Request, exc: StateUnavailable):
        logger.error("session store unavailable: %s", exc)
        return unavailable_page()

    @app.exception(NotFound)
    async def not_found(request: Request, exc: NotFound):
        if _is_public_document(request.path):
            return public_not_found()
        if getattr(request.ctx, "session", None) is None:
            return bare_page("Không tìm thấy", "Trang hoặc văn bản bạn tìm không tồn tại.", 404)
        return render(request, "error.html", status=404, title="Không tìm thấy",
                      message="Trang hoặc văn bản bạn tìm không tồn tại.")

    # -- login -------------------------------------------------------------------------------------
    @app.get("/login", error_format="html")
    async def login_form(request: Request):
        return render(request, "login.html", next=request.args.get("next", "/documents"))

    @app.post("/login", error_format="html")
    async def login(request: Request):
        name = (request.form.get("username") or "").strip().lower()[:64]
        password = (request.form.get("password") or "")[:1024]
        target = request.form.get("next") or "/documents"
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/documents"
        address = client_address(request)
        # the attempt is counted before the password is checked, atomically with the limits
        admission = await state(throttle.begin, name, address)
        if not admission.allowed:
            minutes = math.ceil(admission.retry_after / 60)
            logger.warning("login refused (%s locked) for %r from %s", admission.locked, name,
                           address)
            error = (f"Tài khoản tạm khoá do đăng nhập sai nhiều lần. Thử lại sau {minutes} "
                     "phút." if admission.locked == "user" else
                     f"Có quá nhiều lần đăng nhập sai từ địa chỉ của bạn. Thử lại sau {minutes} "
                     "phút.")
            return render(request, "login.html", status=429, next=target, username=name,
                          error=error)
        user = await asyncio.get_running_loop().run_in_executor(None, users.authenticate, name,
                                                                password)
        if user is None:
            limits = throttle.limits
            user_locked = admission.user_failures >= limits.max_failures_user
            locked = user_locked or admission.address_failures >= limits.max_failures_address
            logger.warning("failed login for %r from %s%s", name, address,
                           " (now locked)" if locked else "")
            minutes = math.ceil(limits.window_seconds / 60)
            if user_locked:
                error = (f"Tài khoản tạm khoá {minutes} phút do đăng nhập sai "
                         f"{limits.max_failures_user} lần.")
            elif locked:
                error = (f"Có quá nhiều lần đăng nhập sai từ địa chỉ của bạn: tạm khoá {minutes} "
                         "phút.")
            else:
                error = "Tên đăng nhập hoặc mật khẩu không đúng."
            return render(request, "login.html", status=429 if locked else 401, next=target,
                          username=name, error=error)
        await state(throttle.succeeded, name, address, admission)
        # a fresh id and CSRF token: no session fixation
        session = await state(sessions.rotate, request.ctx.session, user.name, user.role)
        request.ctx.session, request.ctx.new_cookie = session, True
        request.ctx.saved = session.record()
        logger.info("login: %s (%s) from %s", user.name, user.role.value, address)
        return redirect(target)

    @app.post("/logout", error_format="html")
    async def logout(request: Request):
        session = await state(sessions.rotate, request.ctx.session)
        request.ctx.session, request.ctx.new_cookie = session, True
        request.ctx.saved = session.record()
        return redirect("/login")

    # -- documents -------------------------------------------------------------------------------
    @app.get("/", error_format="html")
    async def home(request: Request):
        return redirect("/documents")

    @app.get("/documents", error_format="html")
    async def documents(request: Request):
        if denied := login_required(request):
            return denied
        args = {k: (request.args.get(k) or "").strip() for k in ("q", "type", "year", "place")}
        try:
            rows = library.rows(args["q"], args["type"], args["year"], args["place"])
            facets = library.facets()
            problem = None
        except IndexError_ as exc:
            rows, facets, problem = [], {"types": [], "years": [], "places": []}, str(exc)
        return render(request, "documents.html", rows=rows, facets=facets, args=args,
                      version=library.version(), problem=problem)

    @app.get("/document", error_format="html")
    async def document(request: Request):
        if denied := login_required(request):
            return denied
        found = library.detail(request.args.get("id", ""))
        if found is None:
            raise NotFound("no such document")
        row, chunks = found
        return render(request, "document.html", row=row, chunks=chunks)

    @app.get("/upload", error_format="html")
    async def upload_form(request: Request):
        if denied := editor_required(request):
            return denied
        return render(request, "upload.html", suffixes=UPLOAD_SUFFIXES, form={},
                      limit_mb=config.max_upload_bytes / 1048576)

    @app.post("/upload", error_format="html")
    async def upload(request: Request):
        if denied := editor_required(request):
            return denied
        upload_file = request.files.get("file") if request.files else None
        form = {k: request.form.get(k, "") for k in EDITABLE_FIELDS}
        if upload_file is None or not upload_file.name:
            return render(request, "upload.html", status=400, suffixes=UPLOAD_SUFFIXES,
                          form=form, limit_mb=config.max_upload_bytes / 1048576,
                          error="Hãy chọn một tệp để tải lên.")
        try:
            result = await library.run(library.upload, upload_file.name, upload_file.body, form,
                                       request.form.get("replace") == "1")
        except ConsoleError as exc:
            return render(request, "upload.html", status=400, suffixes=UPLOAD_SUFFIXES,
                          form=form, limit_mb=config.max_upload_bytes / 1048576, error=str(exc))
        session: Session = request.ctx.session
        logger.info("%s uploaded %s", session.user, result.doc_id)
        session.flash("ok", f"Đã tải lên và nạp “{result.doc_id}” "
                            f"({result.report.total_chunks} đoạn trong chỉ mục). Trợ lý trả lời "
                            "được từ văn bản này ngay.")
        for note in result.warnings:
            session.flash("warn", f"Lưu ý khi đọc tệp: {note}")
        return redirect("/document?" + urlencode({"id": result.doc_id}))

    @app.post("/document/delete", error_format="html")
    async def delete(request: Request):
        if denied := editor_required(request):
            return denied
        doc_id = request.form.get("id", "")
        session: Session = request.ctx.session
        try:
            await library.run(library.delete, doc_id)
        except ConsoleError as exc:
            session.flash("error", str(exc))
            return redirect("/documents")
        logger.info("%s deleted %s", session.user, doc_id)
        session.flash("ok", f"Đã xoá “{doc_id}” khỏi chỉ mục (tệp được giữ trong "
                            "thư mục .deleted để khôi phục khi cần).")
        return redirect("/documents")

    @app.get("/document/edit", error_format="html")
    async def edit_form(request: Request):
        if denied := editor_required(request):
            return denied
        found = library.detail(request.args.get("id", ""))
        if found is None:
            raise NotFound("no such document")
        row, _ = found
        meta = row.document.meta
        form = {k: getattr(meta, k) for k in EDITABLE_FIELDS}
        form["places"] = ", ".join(meta.places)
        form["year"] = meta.year or ""
        return render(request, "edit.html", row=row, form=form)

    @app.post("/document/edit", error_format="html")
    async def edit(request: Request):
        if denied := editor_required(request):
            return denied
        doc_id = request.form.get("id", "")
        found = library.detail(doc_id)
        if found is None:
            raise NotFound("no such document")
        form = {k: request.form.get(k, "") for k in EDITABLE_FIELDS}
        try:
            await library.run(library.update_metadata, doc_id, form)
        except ConsoleError as exc:
            return render(request, "edit.html", status=400, row=found[0], form=form,
                          error=str(exc))
        session: Session = request.ctx.session
        logger.info("%s corrected the metadata of %s", session.user, doc_id)
        session.flash("ok", "Đã lưu siêu dữ liệu và nạp lại văn bản.")
        return redirect("/document?" + urlencode({"id": doc_id}))

    # -- questions -------------------------------------------------------------------------------
    def question_filter(request: Request) -> tuple[LogFilter, dict[str, str]]:
        args = {k: (request.args.get(k) or "").strip()
                for k in ("channel", "from", "to", "declined", "unhelpful", "q")}
        start = _day_start(args["from"]) if args["from"] else None
        end = None
        if args["to"] and _day_start(args["to"]) is not None:
            end = time.mktime((date.fromisoformat(args["to"]) + timedelta(days=1)).timetuple())
        flt = LogFilter(channel=args["channel"] or None, start=start, end=end,
                        declined=True if args["declined"] == "1" else None,
                        unhelpful_only=args["unhelpful"] == "1", text=args["q"] or None,
                        limit=500)
        return flt, args

    @app.get("/questions", error_format="html")
    async def questions(request: Request):
        if denied := login_required(request):
            return denied
        flt, args = question_filter(request)
        rows = await asyncio.get_running_loop().run_in_executor(None, qlog.query, flt)
        channels = await asyncio.get_running_loop().run_in_executor(None, qlog.channels)
        return render(request, "questions.html", rows=rows, args=args, channels=channels,
                      export=f"/questions.csv?{urlencode(args)}")

    @app.get("/questions.csv", error_format="html")
    async def questions_csv(request: Request):
        if denied := login_required(request):
            return denied
        flt, _ = question_filter(request)
        raw = await asyncio.get_running_loop().run_in_executor(None, qlog.to_csv, flt)
        text = _spreadsheet_safe(raw)
        name = f"cau-hoi-{time.strftime('%Y%m%d-%H%M')}.csv"
        return response.text(text, content_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # -- the public page of a document, linked from the assistant's "Nguồn:" line -----------------
    def public_page(name: str, status: int = 200, **context) -> HTTPResponse:
        return response.html(env.get_template(name).render(**context), status=status)

    def public_not_found() -> HTTPResponse:
        return public_page("public_error.html", status=404, title="Không tìm thấy văn bản",
                           message="Văn bản bạn tìm không có trong kho văn bản của Trợ lý CCHC "
                                   "(có thể đã được gỡ bỏ hoặc đường dẫn không đúng).")

    def public_document(doc_id: str) -> HTTPResponse:
        try:
            found = doc_id and (library.detail(doc_id)
                                or library.detail(unicodedata.normalize("NFC", doc_id)))
        except IndexError_ as exc:
            logger.error("document page %r: index unavailable: %s", doc_id, exc)
            return public_page("public_error.html", status=503, title="Tạm thời gián đoạn",
                               message="Kho văn bản đang tạm thời không truy cập được. Bạn vui "
                                       "lòng thử lại sau ít phút.")
        if not found:
            return public_not_found()
        row, chunks = found
        return public_page("public_document.html", document=row.document,
                           passages=passages(row.document, chunks))

    @app.get(DOCUMENT_PAGE_PATH, error_format="html")
    async def public_document_by_query(request: Request):
        return public_document(request.args.get("id", ""))

    @app.get(DOCUMENT_PAGE_PATH + "/<doc_id:path>", error_format="html")
    async def public_document_by_path(request: Request, doc_id: str):
        return public_document(unquote(doc_id))  # Sanic leaves path parameters encoded

    # -- the widget, its demo page, health -------------------------------------------------------
    app.static("/widget", str(config.widget_dir), name="widget")
    app.static("/static", str(_STATIC), name="console_static")

    @app.get("/demo", error_format="html")
    async def demo(request: Request):
        page = (config.widget_dir / "demo.html").read_text(encoding="utf-8")
        attr = f'data-rasa-url="{escape(config.rasa_url, quote=True)}"'
        return response.html(page.replace(_DEMO_URL_ATTR, attr))

    @app.get("/health", error_format="html")
    async def health(request: Request):
        return response.json({"status": "ok", "index_version": library.version(),
                              "worker": os.getpid()})

    @app.after_server_start
    async def warm_up(app_: Sanic, _loop) -> None:
        threading.Thread(target=_warm_up_reader, args=(library,), name="console-warm-up",
                         daemon=True).start()

    @app.after_server_stop
    async def close(app_: Sanic, _loop) -> None:
        library.close()
        pool = state_pool.pop("pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        sessions.close()
        throttle.close()

    return app
