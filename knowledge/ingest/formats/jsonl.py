"""``.jsonl`` bulk files: one document per line, ``id``, ``text`` and optional metadata
fields (``title``, ``number``, ``doc_type``, ``date``, ``issuer``, ``signer``, ``places``,
``year``, ``source``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knowledge.ingest.formats.base import LoadError, decode

SUFFIXES = (".jsonl",)


def read_records(file: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, text, metadata fields) of every record.

    Raises:
        LoadError: a line is not JSON or lacks a non-empty ``id`` and ``text``.
    """
    records = []
    for n, line in enumerate(decode(file.read_bytes()).text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"line {n}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not record.get("id") or not record.get("text"):
            raise LoadError(f"line {n}: a record needs non-empty 'id' and 'text'")
        fields = {k: v for k, v in record.items() if k not in ("id", "text")}
        records.append((str(record["id"]), str(record["text"]), fields))
    return records
