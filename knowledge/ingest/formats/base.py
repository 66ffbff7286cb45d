"""What every file-format reader shares: the result type, the error, and decoding helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.text.legacy_encodings import (
    UTF8,
    DecodedText,
    EncodingError,
    detect_and_decode,
    repair_mojibake,
)

SPACES = re.compile(r"\s+")


class LoadError(Exception):
    """A file that could not be turned into a document; the message says why."""


@dataclass(frozen=True)
class Extracted:
    """Text taken out of one file, the metadata the file states, and notes for the operator."""

    text: str
    fields: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def decode(raw: bytes) -> DecodedText:
    """Bytes of any supported encoding (UTF-8, Windows-1258, TCVN3, VNI) as NFC text."""
    try:
        return detect_and_decode(raw)
    except EncodingError as exc:
        raise LoadError(str(exc)) from exc


def repair(text: str) -> DecodedText:
    """Text that may still carry legacy-font mojibake, converted to Unicode."""
    try:
        return repair_mojibake(text)
    except EncodingError as exc:
        raise LoadError(str(exc)) from exc


def encoding_notes(decoded: DecodedText) -> tuple[str, ...]:
    """What the operator should know about a file's encoding."""
    notes = []
    if "+" in decoded.encoding:  # Unicode carrying legacy-font text: "utf-8+tcvn3"
        legacy = decoded.encoding.split("+", 1)[1]
        notes.append(f"converted {legacy} legacy-font text to Unicode")
    elif decoded.encoding != UTF8:
        notes.append(f"converted from {decoded.encoding} to Unicode")
    if not decoded.confident:
        notes.append(f"encoding {decoded.encoding} detected with low confidence: check the text")
    return tuple(notes)


def useful_title(title: str | None) -> str:
    """A title stated in a file's properties, unless it is a word processor's placeholder."""
    title = SPACES.sub(" ", title or "").strip()
    if len(title) < 4 or title.lower().startswith(("microsoft word", "untitled", "document")):
        return ""
    return title
