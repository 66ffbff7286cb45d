import pytest

from knowledge.ingest.chunking import ChunkingConfig, chunk_document
from knowledge.schema import Document, DocumentMeta


def test_list_stays_with_its_lead_in():
    text = ("Mở đầu kế hoạch. " * 20 + "\n\nViệc kiểm tra tiến hành tại các sở:\n- Sở Tư pháp;\n"
            "- Sở Nội vụ;\n- UBND huyện Gio Linh.\n\n" + "Kết thúc kế hoạch. " * 30)
    chunks = chunk_document(Document("d", text), ChunkingConfig(max_chars=400, min_chars=100))
    holder = [c for c in chunks if "tại các sở:" in c.text]
    assert len(holder) == 1
    assert "UBND huyện Gio Linh" in holder[0].text and "Sở Tư pháp" in holder[0].text


def test_spans_point_into_the_document():
    text = "Điều 1. Phạm vi\nNội dung một.\n\nĐiều 2. Đối tượng\nNội dung hai dài hơn."
    doc = Document("d", text, DocumentMeta(title="Quy chế"))
    chunks = chunk_document(doc, ChunkingConfig(max_chars=100, min_chars=0))
    for c in chunks:
        assert text[c.start:c.end] == c.text
    assert [c.heading for c in chunks] == ["Điều 1. Phạm vi", "Điều 2. Đối tượng"]
    assert [c.id for c in chunks] == ["d#0", "d#1"]


def test_long_paragraph_is_split_at_sentences():
    text = " ".join(f"Câu số {i} nói về cải cách hành chính." for i in range(100))
    chunks = chunk_document(Document("d", text), ChunkingConfig(max_chars=300, min_chars=50))
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks[:-1])


def test_config_is_validated():
    with pytest.raises(ValueError, match="max_chars"):
        ChunkingConfig(max_chars=10)
