"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright): the demo
portal page with the widget, talking to the real Rasa server (Socket.IO, and REST when the socket
is unavailable) and action server, and the officials' console on the same index and question log.

Screenshots (widget.png, console.png) go to a temporary folder; with
``CCHC_UPDATE_SCREENSHOTS=1`` they replace the README's docs/screenshots/ (a test never writes
into the checkout otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("CCHC_UPDATE_SCREENSHOTS") == "1"
               else Path(tempfile.gettempdir()) / f"cchc-screenshots-{os.getpid()}")
EDITOR, EDITOR_PW = "bientap", "mat-khau-e2e-bien-tap"
QUESTION_2018 = ("Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị "
                 "nào?")
NEW_DOC = (  # one paragraph per line, as documents are written
    "KẾ HOẠCH\nKiểm tra công tác cải cách hành chính năm 2026 của tỉnh Hòa Bình\n\n"
    "Ngày 05/01/2026, UBND tỉnh Hòa Bình ban hành Kế hoạch số 77/KH-UBND về kiểm tra công tác "
    "cải cách hành chính năm 2026.\n\n"
    "Theo kế hoạch, năm 2026 tỉnh Hòa Bình kiểm tra công tác cải cách hành chính tại Sở Y tế và "
    "Sở Công Thương. Đoàn kiểm tra do Sở Nội vụ chủ trì, tiến hành trong tháng 9/2026.\n"
)
XSS_USER = '<img src=x onerror="window.__xss=1">'
XSS_BOT = ('<img src=x onerror="window.__xss2=1"> Chi tiết: '
           "https://example.gov.vn/tin?id=1&x=<b>2</b>.")

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r "
                               "requirements/browser-tests.txt into .venv/kb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


class Stack:
    """scripts/serve.sh (Rasa + action server) and the console, on free ports, sharing one index
    folder and one question log, as `make run` does."""

    def __init__(self, model: str, index: Path, state: Path) -> None:
        self.model, self.index, self.state = model, index, state
        self.rasa_port, self.action_port, self.console_port = (_free_port(), _free_port(),
                                                               _free_port())
        self.env = {**os.environ, "RASA_PORT": str(self.rasa_port),
                    "ACTION_PORT": str(self.action_port), "KB_INDEX": str(index),
                    "RASA_TRACKER_DB": str(state / "tracker.db"),
                    "KB_QUESTION_LOG": str(state / "questions.db"),
                    "RUN_DIR": str(state / "run"), "LOG_DIR": str(state / "logs"),
                    "CONSOLE_USERS": str(state / "users.json"),
                    "CONSOLE_UPLOADS": str(state / "uploads"), "CONSOLE_SOURCE_DIRS": "",
                    "CONSOLE_PORT": "off",  # this test starts the console itself, so
                    # it also sets what serve.sh would: answers link to the console's pages
                    "KB_DOCUMENT_URL_BASE": f"http://127.0.0.1:{self.console_port}"}
        self.servers: subprocess.Popen | None = None
        self.console: subprocess.Popen | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def start(self) -> None:
        done = subprocess.run([sys.executable, "-m", "console", "add-user", EDITOR, "--role",
                               "editor"], input=EDITOR_PW + "\n", text=True, cwd=ROOT,
                              env=self.env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        self.console = subprocess.Popen(
            [sys.executable, "-m", "console", "--port", str(self.console_port), "--rasa-url",
             self.rasa_url], cwd=ROOT, env=self.env, stdout=open(self.state / "console.log", "w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        self.servers = subprocess.Popen(["bash", "scripts/serve.sh", self.model], cwd=ROOT,
                                        env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        deadline = time.time() + 420
        seen = []
        for line in self.servers.stdout:
            seen.append(line)
            if "The assistant is running" in line:
                break
            if time.time() > deadline:
                self.stop()
                pytest.fail("servers did not start:\n" + "".join(seen[-40:]))
        else:
            self.stop()
            pytest.fail("servers exited:\n" + "".join(seen[-40:]))
        _wait_http(self.console_url + "/health", 60)

    def stop(self) -> None:
        for proc in (self.servers, self.console):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.servers = self.console = None

    def questions(self) -> list[dict]:
        from knowledge.question_log import QuestionLog

        log = QuestionLog(self.state / "questions.db")
        try:
            return [q.to_dict() for q in log.query()]
        finally:
            log.close()


@pytest.fixture(scope="module")
def stack(rasa_model, model_dir, tmp_path_factory):
    state = tmp_path_factory.mktemp("browser")
    index = state / "index"
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", "data/documents",
                           "--index", str(index), "-q"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    s = Stack(rasa_model, index, state)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (scripts/test.sh does it)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="vi-VN")
    p = context.new_page()
    yield p
    context.close()


# -- helpers -------------------------------------------------------------------------------------


def open_widget(page, stack: Stack):
    page.goto(stack.console_url + "/demo")
    launcher = page.get_by_role("button", name="Mở trợ lý hỏi đáp cải cách hành chính")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard opens it
    box = page.get_by_label("Nhập câu hỏi của bạn")
    sync_api.expect(box).to_be_focused()
    return box


def ask(page, text: str, timeout: float = 90_000) -> str:
    """Type ``text``, press Enter, return the text of the next bot message."""
    before = page.locator(".cchc-from-bot").count()
    box = page.get_by_label("Nhập câu hỏi của bạn")
    box.fill(text)
    box.press("Enter")
    bot = page.locator(".cchc-from-bot").nth(before)
    bot.wait_for(timeout=timeout)
    return bot.inner_text()


# -- scenarios ---------------------------------------------------------------------------------


def test_widget_answers_with_source_keeps_the_conversation_and_is_accessible(page, stack):
    sent: list[str] = []  # Socket.IO frames the page sends
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
    open_widget(page, stack)
    sync_api.expect(page.locator(".cchc-root")).to_have_attribute("data-transport", "socket",
                                                                  timeout=15_000)
    page.get_by_label("Nhập câu hỏi của bạn").fill(QUESTION_2018)
    page.get_by_label("Nhập câu hỏi của bạn").press("Enter")
    sync_api.expect(page.locator(".cchc-typing")).to_be_visible()
    answer_node = page.locator(".cchc-from-bot").nth(1)
    answer_node.wait_for(timeout=90_000)
    answer = answer_node.inner_text()
    assert "Ngoại vụ" in answer and "1331/QĐ-UBND" in answer, answer
    sync_api.expect(answer_node.locator(".cchc-source")).to_contain_text("Nguồn:")
    sync_api.expect(page.locator(".cchc-typing")).to_be_hidden()
    assert page.locator(".cchc-log").get_attribute("aria-live") == "polite"
    asked = [q for q in stack.questions() if q["question"] == QUESTION_2018]
    assert asked and asked[0]["channel"] == "socketio" and not asked[0]["declined"]

    assert any('"user_uttered"' in f and "1331" not in f and "Quảng Bình" in f for f in sent)

    # feedback buttons under the answer send the rating payload
    rate = answer_node.get_by_role("button", name="👍 Hữu ích")
    sync_api.expect(rate).to_be_visible()
    sync_api.expect(answer_node.get_by_role("button", name="👎 Chưa hữu ích")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget.png"))
    rate.click()
    sync_api.expect(answer_node).to_contain_text("Cảm ơn bạn đã đánh giá")
    deadline = time.time() + 10
    while not any('"/feedback_positive"' in f for f in sent) and time.time() < deadline:
        page.wait_for_timeout(100)
    assert any('"user_uttered"' in f and '"/feedback_positive"' in f for f in sent), sent

    # "Nguồn:" links the cited document's public page on the console, which shows it
    source_link = answer_node.locator(".cchc-source a")
    sync_api.expect(source_link).to_have_count(1)
    sync_api.expect(source_link).to_contain_text("Quyết định số 1331/QĐ-UBND")
    sync_api.expect(source_link).to_have_attribute("rel", "noopener noreferrer")
    href = source_link.get_attribute("href")
    assert href.startswith(stack.console_url + "/van-ban/"), href
    with page.context.expect_page() as opened:
        source_link.click()
    document_page = opened.value
    document_page.wait_for_load_state()
    assert document_page.url == href
    sync_api.expect(document_page.locator('#metadata [data-field="number"]')).to_have_text(
        "1331/QĐ-UBND")
    sync_api.expect(document_page.locator("#toan-van")).to_contain_text("Ngoại vụ")
    document_page.close()

    # reload: the same conversation is still there, panel open
    page.reload()
    sync_api.expect(page.locator(".cchc-from-user .cchc-line").first).to_have_text(QUESTION_2018)
    restored = page.locator(".cchc-from-bot").nth(1)
    sync_api.expect(restored).to_contain_text("1331/QĐ-UBND")
    sync_api.expect(restored).to_contain_text("Cảm ơn bạn đã đánh giá")
    # Esc closes and gives the focus back to the launcher
    page.get_by_label("Nhập câu hỏi của bạn").press("Escape")
    sync_api.expect(page.locator("#cchc-panel")).to_be_hidden()
    launcher = page.get_by_role("button", name="Mở trợ lý hỏi đáp cải cách hành chính")
    sync_api.expect(launcher).to_be_focused()
    sync_api.expect(launcher).to_have_attribute("aria-expanded", "false")


def test_panel_is_full_screen_on_a_phone(browser, stack):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(stack.console_url + "/demo")
        page.get_by_role("button", name="Mở trợ lý hỏi đáp cải cách hành chính").tap()
        panel = page.locator("#cchc-panel")
        sync_api.expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    finally:
        context.close()


def test_html_in_messages_is_shown_as_text(page, stack):
    open_widget(page, stack)
    reply = ask(page, XSS_USER)
    assert reply  # the bot answered (a decline): the page survived the round trip
    user = page.locator(".cchc-from-user .cchc-line").last
    sync_api.expect(user).to_have_text(XSS_USER)
    assert page.locator("#cchc-widget-host img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_rest_fallback_and_bot_html_is_shown_as_text(page, stack):
    page.route("**/vendor/socket.io.min.js", lambda route: route.abort())  # no socket client
    open_widget(page, stack)
    sync_api.expect(page.locator(".cchc-root")).to_have_attribute("data-transport", "rest",
                                                                  timeout=15_000)
    answer = ask(page, QUESTION_2018)  # the real Rasa server, through the REST channel
    assert "Ngoại vụ" in answer and "1331/QĐ-UBND" in answer and "Nguồn:" in answer, answer

    def hostile(route):
        route.fulfill(status=200, content_type="application/json",
                      headers={"Access-Control-Allow-Origin": "*"},
                      body=json.dumps([{"recipient_id": "x", "text": XSS_BOT, "buttons": [
                          {"title": "<b>Có</b>", "payload": "/affirm"}]}]))

    page.route("**/webhooks/rest/webhook", hostile)
    shown = ask(page, "Cho tôi xem chi tiết")
    assert '<img src=x onerror="window.__xss2=1">' in shown
    bot = page.locator(".cchc-from-bot").last
    link = bot.locator("a")
    # a URL ends where "<" starts: the markup after it stays text
    sync_api.expect(link).to_have_attribute("href", "https://example.gov.vn/tin?id=1&x=")
    sync_api.expect(bot).to_contain_text("x=<b>2</b>.")
    sync_api.expect(link).to_have_attribute("rel", "noopener noreferrer")
    sync_api.expect(bot.get_by_role("button", name="<b>Có</b>")).to_be_visible()
    assert page.locator("#cchc-widget-host img, #cchc-widget-host b").count() == 0
    assert page.evaluate("typeof window.__xss2") == "undefined"

    # a hostile "Nguồn:" line: its description stays text, only an http(s) address is linked
    sources_reply = ("Trả lời.\nNguồn: <b>Quyết định</b> (https://example.gov.vn/vb?a=1&b=2)\n"
                     'Nguồn: <img src=x onerror="window.__xss3=1"> (javascript:alert(1))')
    page.unroute("**/webhooks/rest/webhook")
    page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
        body=json.dumps([{"recipient_id": "x", "text": sources_reply}])))
    ask(page, "Nguồn ở đâu?")
    sources = page.locator(".cchc-from-bot").last.locator(".cchc-source")
    sync_api.expect(sources).to_have_count(2)
    first = sources.nth(0).locator("a")
    sync_api.expect(first).to_have_attribute("href", "https://example.gov.vn/vb?a=1&b=2")
    sync_api.expect(first).to_contain_text("<b>Quyết định</b>")
    assert sources.nth(1).locator("a").count() == 0
    sync_api.expect(sources.nth(1)).to_contain_text("(javascript:alert(1))")
    assert page.locator("#cchc-widget-host img, #cchc-widget-host b").count() == 0
    assert page.evaluate("typeof window.__xss3") == "undefined"


def test_document_uploaded_in_the_console_is_answered_by_the_widget(browser, stack, tmp_path):
    doc = tmp_path / "ke-hoach-kiem-tra-cchc-2026-hoa-binh.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(stack.console_url + "/documents")
        page.get_by_label("Tên đăng nhập").fill(EDITOR)
        page.get_by_label("Mật khẩu").fill("sai-mat-khau")
        page.get_by_role("button", name="Đăng nhập").click()
        sync_api.expect(page.locator("#login-error")).to_contain_text("không đúng")
        page.get_by_label("Mật khẩu").fill(EDITOR_PW)
        page.get_by_role("button", name="Đăng nhập").click()
        sync_api.expect(page.locator("#documents")).to_contain_text("1331/QĐ-UBND")

        page.get_by_role("link", name="Tải lên").click()
        page.get_by_label("Tệp văn bản", exact=False).set_input_files(str(doc))
        page.get_by_label("Người ký").fill("Nguyễn Văn Thành")
        uploaded_at = time.time()
        page.get_by_role("button", name="Tải lên và nạp vào kho tri thức").click()
        sync_api.expect(page.locator("#metadata")).to_contain_text("77/KH-UBND", timeout=120_000)
        sync_api.expect(page.locator(".flash")).to_contain_text("Đã tải lên và nạp")
        page.get_by_role("link", name="Văn bản", exact=True).click()
        row = page.locator('tr[data-doc-id="ke-hoach-kiem-tra-cchc-2026-hoa-binh.txt"]')
        sync_api.expect(row).to_contain_text("UBND tỉnh Hòa Bình")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console.png"), full_page=True)

        widget = context.new_page()
        open_widget(widget, stack)
        answer = ask(widget, "Năm 2026 tỉnh Hòa Bình kiểm tra công tác cải cách hành chính tại "
                             "những đơn vị nào?", timeout=60_000)
        assert "Sở Y tế" in answer and "Công Thương" in answer, answer
        assert "77/KH-UBND" in answer and "Nguồn:" in answer, answer
        assert time.time() - uploaded_at < 90

        page.goto(stack.console_url + "/questions")
        sync_api.expect(page.locator("#questions")).to_contain_text("Năm 2026 tỉnh Hòa Bình")
    finally:
        context.close()
    shutil.rmtree(stack.state / "uploads" / ".deleted", ignore_errors=True)
