"""Render an :class:`Answer` as the short, polite Vietnamese reply users see on every channel."""

from __future__ import annotations

from urllib.parse import quote

from knowledge.answering.links import DEFAULT_LINK_DOMAINS, allowed_link
from knowledge.lexicon.dates import vn_date
from knowledge.lexicon.doc_numbers import type_of_number
from knowledge.schema import Answer, Citation

MAX_SOURCES = 5
"""Sources listed under an answer drawn from several documents."""

DOCUMENT_PAGE_PATH = "/van-ban"
"""Where the console serves its public, read-only page of each document."""


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


def document_page_url(base: str, doc_id: str) -> str:
    """The public page of a document: ``<base>/van-ban/<id>``, every part of the id
    percent-encoded and its ``/`` kept (ids are relative paths).

    Ids a browser would rewrite in a path (an empty, ``.`` or ``..`` segment) go in the query
    instead: ``<base>/van-ban?id=<id>``. A final ``.`` is encoded too, so that the link still
    ends with the id when a chat client trims sentence punctuation after a URL.

    >>> document_page_url("http://127.0.0.1:8080", "thư mục/Quyết định 1331.md")
    'http://127.0.0.1:8080/van-ban/th%C6%B0%20m%E1%BB%A5c/Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%201331.md'
    """
    base = base.rstrip("/")
    if any(part in ("", ".", "..") for part in doc_id.split("/")):
        return f"{base}{DOCUMENT_PAGE_PATH}?id={quote(doc_id, safe='')}"
    path = quote(doc_id, safe="/")
    if path.endswith("."):
        path = path[:-1] + "%2E"
    return f"{base}{DOCUMENT_PAGE_PATH}/{path}"


def source_url(c: Citation, document_url_base: str = "",
               link_domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> str:
    """Where a reader can open the cited document: its own http(s) address when that is on an
    allow-listed domain (``link_domains``, see :func:`~knowledge.answering.links.allowed_link`),
    else its page on the console when ``document_url_base`` is set, else ``""``. A source on
    another domain (it comes from the file: an uploaded page's canonical link, a ``source:``
    line) is never a link."""
    if allowed_link(c.source, link_domains):
        return c.source
    if document_url_base and c.doc_id:
        return document_page_url(document_url_base, c.doc_id)
    return ""


def render_reply(answer: Answer, document_url_base: str = "",
                 link_domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> str:
    """Answer first, then "Nguồn:" with the document (and its address in parentheses when it
    has one, see :func:`source_url`) and a short verbatim quote.

    A decline says so plainly and lists up to three closest documents.

    Args:
        answer: what :meth:`knowledge.base.KnowledgeBase.ask` returned.
        document_url_base: the public address of the console (``KB_DOCUMENT_URL_BASE``), so
            that documents without an address of their own link to their page there.
        link_domains: domains a document's own address may link to (``KB_SOURCE_LINK_DOMAINS``).
    """
    lines = [answer.text]
    if answer.declined:
        if answer.citations:
            lines.append("Văn bản gần nhất:")
            for c in answer.citations[:3]:
                lines.append(f"• {describe_source(c)}")
        return "\n".join(lines)
    if answer.kind == "aggregate" and len(answer.citations) > 1:
        # an answer drawn from several documents lists them all (each with its link)
        lines.append("Nguồn:")
        for c in answer.citations[:MAX_SOURCES]:
            url = source_url(c, document_url_base, link_domains)
            lines.append(f"• {describe_source(c)}" + (f" ({url})" if url else ""))
        return "\n".join(lines)
    for c in answer.citations[:1]:
        url = source_url(c, document_url_base, link_domains)
        lines.append(f"Nguồn: {describe_source(c)}" + (f" ({url})" if url else ""))
        if c.quote and c.quote not in answer.text:
            lines.append(f"Trích: “{c.quote}”")
    return "\n".join(lines)
