"""Structure-aware chunking of Vietnamese administrative documents.

A document is cut at its headings (Phần / Chương / Mục / Điều, Roman-numeral and numbered
sections); within a section paragraphs are packed up to ``max_chars``. A paragraph that ends
with ":" stays with the list that follows it, so "…tại các sở: A, B, C" is never split from
its items. Each chunk keeps its heading path and its character span in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.schema import Chunk, Document

HEADING_RE = re.compile(
    r"^(?:(?:Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC)\s+[IVXLC\d]+\b"
    r"|Điều\s+\d+[a-z]?\s*[.:]"
    r"|[IVX]{1,5}\s*[.\-–]\s+\S"
    r"|[A-ZĐ]\s*[.)]\s+[A-ZĐÀ-Ỹ])"
)
_LIST_ITEM = re.compile(r"^(?:[-+•*–]|\d{1,2}[.)]|[a-zđ][.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZĐÀ-Ỹ\"“(])")


@dataclass(frozen=True)
class ChunkingConfig:
    max_chars: int = 900
    min_chars: int = 200

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ValueError(f"max_chars must be >= 100, got {self.max_chars}")
        if not 0 <= self.min_chars < self.max_chars:
            raise ValueError("min_chars must be >= 0 and smaller than max_chars")


@dataclass
class _Block:
    start: int
    end: int
    heading: str


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            offset = line.find(stripped)
            spans.append((pos + offset, pos + offset + len(stripped)))
        pos += len(line) + 1
    return spans


def _blocks(doc: Document) -> list[_Block]:
    """Paragraph blocks with their heading path; list items are glued to their lead-in."""
    text = doc.text
    title = doc.meta.title or ""
    blocks: list[_Block] = []
    path: list[tuple[int, str]] = []  # (level, heading) from the outermost in
    for start, end in _paragraph_spans(text):
        para = text[start:end]
        if HEADING_RE.match(para) and len(para) < 200:
            level = _heading_level(para)
            path = [p for p in path if p[0] < level] + [(level, para[:80])]
            blocks.append(_Block(start, end, " > ".join(h for _, h in path)))
            continue
        heading = " > ".join(h for _, h in path) if path else title
        prev = blocks[-1] if blocks else None
        glue = prev is not None and (
            text[prev.end - 1] == ":" or (_LIST_ITEM.match(para) and _is_list_context(text, prev))
        )
        if glue and prev is not None:
            prev.end = end
        else:
            blocks.append(_Block(start, end, heading))
    return blocks


def _is_list_context(text: str, block: _Block) -> bool:
    last_line = text[block.start : block.end].rsplit("\n", 1)[-1].strip()
    return last_line.endswith(":") or bool(_LIST_ITEM.match(last_line))


def _heading_level(para: str) -> int:
    if re.match(r"(?i)^(phần)", para):
        return 0
    if re.match(r"(?i)^(chương)", para) or re.match(r"^[IVX]{1,5}\s*[.\-–]", para):
        return 1
    if re.match(r"(?i)^(mục)", para) or re.match(r"^[A-ZĐ]\s*[.)]", para):
        return 2
    return 3


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split an over-long span at sentence ends (or spaces as a last resort)."""
    spans = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = -1
        for m in _SENTENCE_END.finditer(window):
            if m.start() > max_chars // 3:
                cut = m.start()
        if cut < 0:
            cut = window.rfind(" ", max_chars // 2)
        if cut <= 0:
            cut = max_chars
        spans.append((start, start + cut))
        start = start + cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))
    return spans


def chunk_document(doc: Document, config: ChunkingConfig | None = None) -> list[Chunk]:
    """Cut ``doc`` into chunks (see module doc). Chunk ids are ``"<doc id>#<n>"``."""
    config = config or ChunkingConfig()
    text = doc.text
    groups: list[tuple[int, int, str]] = []
    for block in _blocks(doc):
        starts_section = bool(HEADING_RE.match(text[block.start : block.end]))
        if groups and not starts_section:
            g_start, g_end, g_heading = groups[-1]
            same_section = g_heading == block.heading
            if same_section and (block.end - g_start <= config.max_chars
                                 or g_end - g_start < config.min_chars):
                groups[-1] = (g_start, block.end, g_heading)
                continue
        groups.append((block.start, block.end, block.heading))
    chunks: list[Chunk] = []
    for start, end, heading in groups:
        for s, e in _split_long(text, start, end, max(config.max_chars, 2 * config.min_chars)):
            chunks.append(Chunk(id=f"{doc.id}#{len(chunks)}", doc_id=doc.id, text=text[s:e],
                                start=s, end=e, heading=heading))
    return chunks
