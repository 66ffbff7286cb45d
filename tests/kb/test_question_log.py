"""The question log on both backends: SQLite (a file, the default) and a real PostgreSQL
(tests/support/services.py: initdb in a temporary folder, loopback, deploy/postgres/setup.sql)."""

from __future__ import annotations

import csv
import io
import threading

import pytest

from knowledge.question_log import LogFilter, QuestionLog, is_database_url, redact_url
from tests.support.services import postgres_server


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def _fresh_database(server, name: str) -> str:
    import psycopg

    with psycopg.connect(server.superuser_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" OWNER {server.user}')
    return server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "q.db"
    server = request.getfixturevalue("postgres")
    return _fresh_database(server, f"log_{request.node.name.split('[')[0][-40:]}")


def test_record_rate_filter_and_export(location):
    log = QuestionLog(location)
    a = log.record("Năm 2018 kiểm tra ở đâu?", "Sở Tài chính…", False, channel="rest",
                   sender="u1", doc_id="d1", confidence=0.8, asked_at=1000.0)
    b = log.record("Giá vàng?", "Xin lỗi…", True, channel="telegram", sender="u2",
                   asked_at=2000.0)
    assert log.rate(a, helpful=False, comment="thiếu huyện")
    assert not log.rate(999, helpful=True)
    assert [q.id for q in log.query()] == [b, a]
    assert [q.id for q in log.query(LogFilter(declined=True))] == [b]
    assert [q.id for q in log.query(LogFilter(unhelpful_only=True))] == [a]
    assert [q.id for q in log.query(LogFilter(channel="rest", start=500, end=1500))] == [a]
    assert log.channels() == ["rest", "telegram"]
    first = log.query(LogFilter(channel="rest"))[0]
    assert (first.question, first.declined, first.helpful, first.comment, first.confidence) == (
        "Năm 2018 kiểm tra ở đâu?", False, False, "thiếu huyện", 0.8)
    rows = list(csv.reader(io.StringIO(log.to_csv().lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "thoi_gian", "kenh", "nguoi_hoi", "cau_hoi"]
    assert rows[2][4] == "Năm 2018 kiểm tra ở đâu?" and rows[2][9] == "0"
    log.close()
    assert QuestionLog(location).query()[0].question == "Giá vàng?"  # persisted


def test_text_filter_is_a_literal_substring(location):
    log = QuestionLog(location)
    hundred = log.record("Mục tiêu giảm 100% giấy tờ?", "", False)
    log.record("Mục tiêu giảm 10 giấy tờ?", "", False)
    underscore = log.record("mã so_hieu là gì?", "", False)
    log.record("mã soXhieu là gì?", "", False)
    assert [q.id for q in log.query(LogFilter(text="100%"))] == [hundred]
    assert [q.id for q in log.query(LogFilter(text="so_hieu"))] == [underscore]
    assert len(log.query(LogFilter(text="mục tiêu"))) == 2  # ASCII case folded by both
    if is_database_url(location):  # PostgreSQL's ILIKE folds Vietnamese capitals too
        assert len(log.query(LogFilter(text="MỤC TIÊU"))) == 2
    log.close()


def test_postgres_reconnects_after_the_server_drops_the_connection(postgres):
    import psycopg

    url = _fresh_database(postgres, "log_reconnect")
    log = QuestionLog(url)
    first = log.record("trước", "", False)
    with psycopg.connect(postgres.superuser_url(), autocommit=True) as admin:
        killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'cchc-question-log'").fetchall()
    assert killed
    second = log.record("sau", "", False)  # a database restart does not lose the next answer
    assert second == first + 1
    assert [q.question for q in log.query()] == ["sau", "trước"]
    log.close()


def test_postgres_schema_created_by_several_processes_at_once(postgres):
    url = _fresh_database(postgres, "log_race")
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def first_use() -> None:
        log = QuestionLog(url)  # one per thread, as one per action server
        try:
            start.wait()
            log.record("cùng lúc", "", False)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            log.close()

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(QuestionLog(url).query()) == 6


def test_location_kinds_and_the_password_never_shown():
    url = "postgresql://cchc:s3cr3t@db.example:5432/cchc"
    assert is_database_url(url) and is_database_url("postgres://h/db")
    assert not is_database_url("var/questions.db")
    assert redact_url(url) == "postgresql://cchc:***@db.example:5432/cchc"
    assert "s3cr3t" not in repr(QuestionLog(url))
    assert QuestionLog("var/questions.db").path is not None
