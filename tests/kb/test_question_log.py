import csv
import io

from knowledge.question_log import LogFilter, QuestionLog


def test_record_rate_filter_and_export(tmp_path):
    log = QuestionLog(tmp_path / "q.db")
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
    rows = list(csv.reader(io.StringIO(log.to_csv().lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "thoi_gian", "kenh", "nguoi_hoi", "cau_hoi"]
    assert rows[2][4] == "Năm 2018 kiểm tra ở đâu?" and rows[2][9] == "0"
    log.close()
    assert QuestionLog(tmp_path / "q.db").query()[0].question == "Giá vàng?"  # persisted
