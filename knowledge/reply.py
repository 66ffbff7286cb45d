"""Render an :class:`Answer` as the short, polite Vietnamese reply users see on every channel."""

from __future__ import annotations

from knowledge.metadata import type_of_number
from knowledge.schema import Answer, Citation


def vn_date(iso: str) -> str:
    """``"2018-04-13"`` → ``"13/4/2018"`` (anything else is returned unchanged)."""
    parts = iso.split("-")
    if len(parts) != 3:
        return iso
    y, m, d = parts
    return f"{int(d)}/{int(m)}/{y}"


def describe_source(c: Citation) -> str:
    """``"Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình"`` for a numbered
    document, ``"bài “<title>” (28/3/2018)"`` for news, the document id as a last resort."""
    if c.number:
        kind = type_of_number(c.number) or (c.doc_type if c.doc_type != "Tin tức" else "Văn bản")
        parts = [f"{kind} số {c.number}"]
        if c.date:
            parts.append(f"ngày {vn_date(c.date)}")
        if c.issuer:
            parts.append(f"của {c.issuer}")
        return " ".join(parts)
    if c.title:
        when = f" ({vn_date(c.date)})" if c.date else ""
        return f"bài “{c.title}”{when}"
    return c.doc_id


def render_reply(answer: Answer) -> str:
    """Answer first, then "Nguồn:" with the document and a short verbatim quote.

    A decline says so plainly and lists up to three closest documents.
    """
    lines = [answer.text]
    if answer.declined:
        if answer.citations:
            lines.append("Văn bản gần nhất:")
            for c in answer.citations[:3]:
                lines.append(f"• {describe_source(c)}")
        return "\n".join(lines)
    for c in answer.citations[:1]:
        lines.append(f"Nguồn: {describe_source(c)}")
        if c.quote and c.quote not in answer.text:
            lines.append(f"Trích: “{c.quote}”")
        if c.source.startswith(("http://", "https://")):
            lines.append(f"Xem: {c.source}")
    return "\n".join(lines)
