"""Turn files into :class:`Document` objects.

Supported: ``.txt`` and ``.md`` (optionally with a header of ``key: value`` lines ended by
``---``, or YAML front matter between ``---`` lines) and ``.jsonl`` bulk records (one document
per line: ``id``, ``text``, optional ``title`` and metadata fields). A file's document id is its
path relative to the folder given (a single file: its name).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.metadata import extract_metadata
from knowledge.schema import Document, DocumentMeta
from knowledge.text.normalize import clean_text

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
BULK_SUFFIXES = (".jsonl",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + BULK_SUFFIXES
_HEADER_KEYS = {"source", "title", "date", "doc_type", "number", "issuer", "signer", "places",
                "year", "url"}


class LoadError(Exception):
    """A file that could not be turned into a document; the message says why."""


@dataclass
class LoadReport:
    """Documents read and files skipped (with the reason), for the operator."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def iter_files(path: Path) -> Iterator[tuple[Path, str]]:
    """(file, document id) pairs under ``path``; ids are relative to ``path``."""
    if path.is_file():
        yield path, path.name
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in file.relative_to(path).parts):
            continue
        yield file, file.relative_to(path).as_posix()


def load_paths(paths: list[Path]) -> LoadReport:
    """Read every supported file under ``paths``. Unsupported or broken files are reported,
    never silently indexed."""
    report = LoadReport()
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"no such file or folder: {root}")
        for file, doc_id in iter_files(root):
            suffix = file.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                if root.is_file():
                    report.failures.append((str(file), f"unsupported file type '{suffix}'"))
                continue
            try:
                if suffix in BULK_SUFFIXES:
                    report.documents.extend(load_jsonl(file))
                else:
                    report.documents.append(load_text_file(file, doc_id))
            except LoadError as exc:
                report.failures.append((str(file), str(exc)))
    return report


def _read_text(file: Path) -> str:
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not valid UTF-8 text ({exc.reason} at byte {exc.start})") from exc


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
        if not sep or key not in _HEADER_KEYS:
            return {}, text  # not a metadata header after all
        header[key] = value.strip().strip('"')
    return header, body


def _meta_from_fields(fields: dict) -> DocumentMeta:
    data = dict(fields)
    if "url" in data and not data.get("source"):
        data["source"] = data.pop("url")
    if isinstance(data.get("places"), str):
        data["places"] = [p.strip() for p in data["places"].split(",") if p.strip()]
    if data.get("doc_type") == "tin_tuc":
        data["doc_type"] = "Tin tức"
    return DocumentMeta.from_dict(data)


def make_document(doc_id: str, text: str, fields: dict | None = None) -> Document:
    """Clean ``text``, extract metadata and lay explicit ``fields`` over it."""
    text = clean_text(text)
    if not text:
        raise LoadError("the document has no text")
    explicit = _meta_from_fields(fields or {})
    extracted = extract_metadata(text, explicit.title)
    return Document(id=doc_id, text=text, meta=explicit.merged_over(extracted))


def load_text_file(file: Path, doc_id: str) -> Document:
    header, body = split_header(_read_text(file).replace("\r\n", "\n"))
    return make_document(doc_id, body, header)


def load_jsonl(file: Path) -> list[Document]:
    docs = []
    for n, line in enumerate(_read_text(file).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"line {n}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not record.get("id") or not record.get("text"):
            raise LoadError(f"line {n}: a record needs non-empty 'id' and 'text'")
        fields = {k: v for k, v in record.items() if k not in ("id", "text")}
        docs.append(make_document(str(record["id"]), str(record["text"]), fields))
    return docs
