"""``.txt`` and ``.md`` files: an optional ``key: value`` header ended by ``---`` (or YAML
front matter), then the body, in any supported encoding."""

from __future__ import annotations

from pathlib import Path

from knowledge.ingest.formats.base import (
    DEFAULT_LIMITS,
    Extracted,
    ExtractLimits,
    decode,
    encoding_notes,
    read_limited,
)

SUFFIXES = (".txt", ".md")
HEADER_KEYS = {"source", "title", "date", "doc_type", "number", "issuer", "signer", "places",
               "year", "url"}


def split_header(text: str) -> tuple[dict[str, str], str]:
    """Split a ``key: value`` header ended by ``---`` (or YAML front matter) from the body."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":  # YAML front matter
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            return {}, text
        header_lines, body = lines[1:end], "\n".join(lines[end + 1 :])
    else:
        try:
            end = next(i for i in range(min(len(lines), 30)) if lines[i].strip() == "---")
        except StopIteration:
            return {}, text
        header_lines, body = lines[:end], "\n".join(lines[end + 1 :])
    header: dict[str, str] = {}
    for line in header_lines:
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in HEADER_KEYS:
            return {}, text  # not a metadata header after all
        header[key] = value.strip().strip('"')
    return header, body


def extract_text_file(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Extracted:
    """A ``.txt``/``.md`` file: its header fields and body, decoded from any encoding.

    Raises:
        LoadError: undecodable; :class:`~knowledge.ingest.formats.base.LimitExceeded` when the
            file or its body is over ``limits``.
    """
    decoded = decode(read_limited(file, limits))
    header, body = split_header(decoded.text.replace("\r\n", "\n"))
    limits.check_chars(len(body))
    return Extracted(body, header, encoding_notes(decoded))

