"""The documents of the knowledge base as officials manage them: list, upload, delete, correct.

Every upload is kept as a UTF-8 text file with a ``key: value`` metadata header
(``var/uploads/<name>.txt``; the original file goes to ``var/uploads/.originals/``). The header
is explicit metadata, which wins over extraction in
:func:`knowledge.ingest.loaders.make_document`, so a corrected số hiệu or date survives every
later re-ingest — by the console or by ``kb ingest data/documents var/uploads --sync``. Changes
are published through :class:`knowledge.ingest.indexer.Indexer` into the same index folder the
action server reads; it picks up the new version on its next question.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from console.config import ConsoleConfig
from console.sandbox import Failure, IsolatedExtractor, SandboxError
from knowledge.config import KnowledgeConfig
from knowledge.index.store import (
    IndexData,
    IndexError_,
    current_version,
    ingest_lock,
    read_index,
)
from knowledge.ingest.indexer import Indexer, IngestReport
from knowledge.ingest.loaders import Limit, LimitExceeded, LoadError, extract_file, split_header
from knowledge.retrieval.dense import Embedder
from knowledge.schema import Chunk, Document
from knowledge.text.segment import TermAnalyzer
from knowledge.text.vietnamese import fold_diacritics

logger = logging.getLogger(__name__)

T = TypeVar("T")

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
EDITABLE_FIELDS = ("title", "number", "doc_type", "date", "issuer", "signer", "places", "year")
HEADER_FIELDS = (*EDITABLE_FIELDS, "source", "url")  # all are keys knowledge.ingest.loaders reads
FIELD_LABELS = {
    "title": "Tiêu đề", "number": "Số hiệu", "doc_type": "Loại văn bản",
    "date": "Ngày ban hành", "issuer": "Cơ quan ban hành", "signer": "Người ký",
    "places": "Địa phương", "year": "Năm",
}
_VN_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


class ConsoleError(Exception):
    """A problem the official can act on; the message is Vietnamese and shown as is."""


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    chunks: int
    source: Path | None  # the file in a managed folder, when there is one

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def editable(self) -> bool:
        return self.source is not None and self.source.suffix.lower() in (".txt", ".md")


@dataclass(frozen=True)
class ChangeResult:
    doc_id: str
    report: IngestReport
    warnings: tuple[str, ...] = ()


def slugify(filename: str) -> str:
    """A safe ASCII file stem: ``"Kế hoạch 12/KH-UBND.docx"`` → ``"ke-hoach-12-kh-ubnd"``."""
    stem = Path(unicodedata.normalize("NFC", filename.replace("\\", "/")).split("/")[-1]).stem
    slug = _UNSAFE.sub("-", fold_diacritics(stem).lower()).strip("-._")
    return slug[:80].strip("-._") or "van-ban"


def clean_fields(form: dict[str, str]) -> dict[str, str]:
    """Validate metadata typed by an official; empty values are left out.

    Raises:
        ConsoleError: a date or year that is not one.
    """
    out: dict[str, str] = {}
    for name in EDITABLE_FIELDS:
        value = " ".join(str(form.get(name) or "").split())
        if not value:
            continue
        if name == "date":
            match = _VN_DATE.match(value)
            iso = f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}" if match else value
            try:
                value = date.fromisoformat(iso).isoformat()
            except ValueError:
                raise ConsoleError(f"Ngày ban hành “{value}” không hợp lệ: nhập theo dạng "
                                   "ngày/tháng/năm (13/4/2018) hoặc 2018-04-13.") from None
        elif name == "year":
            if not value.isdigit() or not 1900 <= int(value) <= 2100:
                raise ConsoleError(f"Năm “{value}” không hợp lệ: nhập bốn chữ số, ví dụ 2018.")
        elif name == "places":
            value = ", ".join(p.strip() for p in value.split(",") if p.strip())
        out[name] = value.replace("---", "—")
    return out


def render_with_header(fields: dict[str, str], body: str) -> str:
    """A text file that :func:`knowledge.ingest.loaders.split_header` reads back as ``fields``."""
    lines = []
    for key in HEADER_FIELDS:
        value = " ".join(str(fields.get(key) or "").split())
        if value:
            lines.append(f"{key}: {value}")
    if not lines:
        return body
    return "\n".join(lines) + "\n---\n" + body.lstrip("\n")


@dataclass(frozen=True)
class Passage:
    """A stretch of a document's text for its page; ``anchor`` (``"doan-3"``) is the HTML id
    where indexed chunk ``#3`` starts, so ``/van-ban/<id>#doan-3`` opens at that passage."""

    anchor: str
    text: str


def passages(doc: Document, chunks: list[Chunk]) -> list[Passage]:
    """The whole text of ``doc`` cut where its chunks start (chunks may overlap; every
    character is shown exactly once, in order)."""
    starts: dict[int, str] = {}
    for chunk in sorted(chunks, key=lambda c: c.start):
        number = chunk.id.rpartition("#")[2]
        if 0 <= chunk.start < len(doc.text) and number.isdigit():
            starts.setdefault(chunk.start, f"doan-{number}")
    cuts = sorted(starts)
    out = [Passage("", doc.text[:cuts[0] if cuts else len(doc.text)])]
    for n, start in enumerate(cuts):
        end = cuts[n + 1] if n + 1 < len(cuts) else len(doc.text)
        out.append(Passage(starts[start], doc.text[start:end]))
    return [p for p in out if p.text or p.anchor]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=".write-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _vn_number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def unreadable_message(filename: str, exc: LoadError, cpu_seconds: int = 0,
                       memory_mb: int = 0) -> str:
    """What an official reads when an uploaded file cannot be read: which limit it went over
    and what to do, in Vietnamese (the English reason of other errors is appended as is)."""
    name = f"“{filename}”"
    if isinstance(exc, LimitExceeded):
        found, allowed = exc.found, exc.allowed
        messages = {
            Limit.CHARS: f"Tệp {name} có quá nhiều chữ (hơn {_vn_number(allowed)} ký tự). Hãy "
                         "tách văn bản thành các tệp nhỏ hơn rồi tải lên lần lượt.",
            Limit.FILE_BYTES: f"Tệp {name} quá lớn để đọc ({found / 1048576:.1f} MB; giới hạn "
                              f"{allowed / 1048576:.0f} MB).",
            Limit.PDF_PAGES: f"Tệp PDF {name} có {_vn_number(found)} trang, vượt giới hạn "
                             f"{_vn_number(allowed)} trang. Hãy tách thành các tệp nhỏ hơn.",
            Limit.PDF_CONTENT: f"Tệp PDF {name} có nội dung trang quá lớn hoặc lặp lại bất "
                               "thường nên không được đọc. Hãy xuất lại tệp ra PDF (Print to "
                               "PDF) rồi thử lại.",
            Limit.ZIP_MEMBERS: f"Tệp .docx {name} chứa quá nhiều thành phần "
                               f"({_vn_number(found)}) nên không được đọc. Hãy mở tệp bằng "
                               "Word, lưu lại rồi thử lại.",
        }
        return messages.get(exc.limit, (
            f"Tệp .docx {name} bị nén bất thường (giải nén ra quá lớn) nên không được đọc. "
            "Hãy mở tệp bằng Word, lưu lại rồi thử lại."))
    if isinstance(exc, SandboxError):
        if exc.failure is Failure.CPU:
            return (f"Tệp {name} quá phức tạp: việc đọc tệp vượt quá {cpu_seconds} giây xử lý "
                    "nên đã dừng. Hãy kiểm tra lại tệp (hoặc lưu lại dưới dạng khác) rồi thử "
                    "lại.")
        if exc.failure is Failure.MEMORY:
            return (f"Tệp {name} cần quá nhiều bộ nhớ để đọc (giới hạn {memory_mb} MB) nên đã "
                    "dừng. Hãy tách tệp hoặc lưu lại dưới dạng khác rồi thử lại.")
        return (f"Trình đọc tệp dừng bất thường khi đọc {name}. Tệp có thể bị hỏng: hãy lưu lại "
                "tệp rồi thử lại.")
    return f"Không đọc được tệp {name}: {exc}"


def _matches(doc: Document, words: list[str]) -> bool:
    m = doc.meta
    hay = fold_diacritics(" ".join([doc.id, m.title, m.number, m.doc_type, m.issuer, m.signer,
                                    " ".join(m.places), doc.text])).lower()
    return all(w in hay for w in words)


class DocumentLibrary:
    """Reads the live index for the pages; changes it through one serialised ingest worker.

    The embedding model (and underthesea) load lazily, once, in the worker thread, on the first
    change; the event loop keeps serving pages meanwhile.
    """

    def __init__(self, config: ConsoleConfig, embedder: Embedder | None = None,
                 analyzer: TermAnalyzer | None = None,
                 extractor: IsolatedExtractor | None = None) -> None:
        self.config = config
        self._kb_config = KnowledgeConfig(model=config.model, index_dir=config.index_dir)
        self._embedder = embedder
        self._analyzer = analyzer
        self.extractor = extractor or IsolatedExtractor(config.sandbox_limits)
        self._indexer: Indexer | None = None
        self._lock = threading.Lock()  # one change at a time
        self._read_lock = threading.Lock()
        self._snapshot: IndexData | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-ingest")

    # -- running changes off the event loop ----------------------------------------------------
    async def run(self, fn: Callable[..., T], *args) -> T:
        """Run a blocking change in the ingest worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """One change at a time: across the threads of this process and across console
        workers and ``kb ingest`` runs (the index's writer lock,
        :func:`knowledge.index.store.ingest_lock`), so that two changes never publish index
        versions built from the same old one."""
        with self._lock, ingest_lock(self.config.index_dir):
            yield

    def _get_indexer(self) -> Indexer:
        if self._indexer is None:
            self._indexer = Indexer(self._kb_config, embedder=self._embedder,
                                    analyzer=self._analyzer)
        return self._indexer

    # -- reading -------------------------------------------------------------------------------
    def snapshot(self) -> IndexData | None:
        """The live index version (cached until a new one is published); None without index."""
        live = current_version(self.config.index_dir)
        if live is None:
            return None
        with self._read_lock:
            if self._snapshot is None or self._snapshot.version != live:
                self._snapshot = read_index(self.config.index_dir)
            return self._snapshot

    def source_of(self, doc_id: str) -> Path | None:
        """The file of ``doc_id`` in a managed folder (uploads first), if any."""
        for folder in self.config.managed_dirs:
            root = Path(folder).resolve()
            candidate = (root / doc_id).resolve()
            if candidate.is_relative_to(root) and candidate != root and candidate.is_file():
                return candidate
        return None

    def rows(self, query: str = "", doc_type: str = "", year: str = "",
             place: str = "") -> list[DocumentRow]:
        data = self.snapshot()
        if data is None:
            return []
        counts: dict[str, int] = {}
        for chunk in data.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        words = fold_diacritics(query).lower().split()
        out = []
        for doc_id in sorted(data.documents):
            doc = data.documents[doc_id].document
            m = doc.meta
            if doc_type and m.doc_type != doc_type:
                continue
            if year and str(m.year or "") != year and not m.date.startswith(year):
                continue
            if place and place not in m.places:
                continue
            if words and not _matches(doc, words):
                continue
            out.append(DocumentRow(doc, counts.get(doc_id, 0), self.source_of(doc_id)))
        return out

    def facets(self) -> dict[str, list[str]]:
        """Values for the filters: document types, years, places."""
        data = self.snapshot()
        types, years, places = set(), set(), set()
        for stored in (data.documents.values() if data else []):
            m = stored.document.meta
            if m.doc_type:
                types.add(m.doc_type)
            if m.year:
                years.add(str(m.year))
            places.update(m.places)
        return {"types": sorted(types), "years": sorted(years, reverse=True),
                "places": sorted(places)}

    def detail(self, doc_id: str) -> tuple[DocumentRow, list[Chunk]] | None:
        data = self.snapshot()
        stored = data.documents.get(doc_id) if data else None
        if stored is None:
            return None
        chunks = [c for c in data.chunks if c.doc_id == doc_id]
        return DocumentRow(stored.document, len(chunks), self.source_of(doc_id)), chunks

    def version(self) -> str | None:
        return current_version(self.config.index_dir)

    # -- changing (blocking; call through run()) -----------------------------------------------
    def _ingest_file(self, path: Path, doc_id: str) -> IngestReport:
        """Ingest one file under its id: a copy at ``<staging>/<doc_id>`` keeps nested ids."""
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.config.uploads_dir))
        try:
            target = staging / doc_id
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            report = self._get_indexer().ingest([staging])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if report.failures:
            reasons = "; ".join(reason for _, reason in report.failures)
            raise ConsoleError(f"Không nạp được văn bản vào chỉ mục: {reasons}")
        return report

    def _indexed_ids(self) -> set[str]:
        data = self.snapshot()
        return set(data.documents) if data else set()

    def upload(self, filename: str, content: bytes, fields: dict[str, str] | None = None,
               replace: bool = False) -> ChangeResult:
        """Convert, store and index one uploaded file. A bad file changes nothing.

        Raises:
            ConsoleError: unsupported type, too big, empty, unreadable, or the name is taken.
        """
        suffix = Path(filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise ConsoleError(f"Định dạng “{suffix or filename}” không được hỗ trợ. Hãy tải lên "
                               "tệp .txt, .md, .html, .docx hoặc .pdf.")
        if not content:
            raise ConsoleError("Tệp rỗng: không có nội dung để nạp.")
        if len(content) > self.config.max_upload_bytes:
            raise ConsoleError(f"Tệp quá lớn ({len(content) / 1048576:.1f} MB); giới hạn là "
                               f"{self.config.max_upload_bytes / 1048576:.0f} MB.")
        explicit = clean_fields(fields or {})
        uploads = self.config.uploads_dir
        uploads.mkdir(parents=True, exist_ok=True)
        doc_id = slugify(filename) + ".txt"
        with self._changing():
            target = uploads / doc_id
            if doc_id in self._indexed_ids() or target.exists():
                if not replace:
                    raise ConsoleError(f"Đã có văn bản “{doc_id}”. Đổi tên tệp, hoặc chọn "
                                       "“Thay thế văn bản cùng tên”.")
                if self.source_of(doc_id) != target.resolve():
                    raise ConsoleError(f"Văn bản “{doc_id}” không phải văn bản tải lên qua bảng "
                                       "điều khiển nên không thể thay thế. Hãy đổi tên tệp.")
            incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=uploads))
            try:
                raw = incoming / f"upload{suffix}"
                raw.write_bytes(content)
                try:
                    extracted = self.extractor.extract(raw)  # a limited child process
                except LoadError as exc:
                    logger.warning("upload %s refused: %s", filename, exc)
                    limits = self.extractor.limits
                    raise ConsoleError(unreadable_message(
                        filename, exc, limits.cpu_seconds, limits.memory_mb)) from None
                header = {k: v for k, v in extracted.fields.items() if k in HEADER_FIELDS}
                header.setdefault("source", Path(filename).name)
                header.update(explicit)
                previous = target.read_text(encoding="utf-8") if target.exists() else None
                _atomic_write(target, render_with_header(header, extracted.text))
                try:
                    report = self._ingest_file(target, doc_id)
                except BaseException:
                    if previous is None:
                        target.unlink(missing_ok=True)
                    else:
                        _atomic_write(target, previous)
                    raise
                originals = uploads / ".originals"
                originals.mkdir(exist_ok=True)
                os.replace(raw, originals / (Path(doc_id).stem + suffix))
            finally:
                shutil.rmtree(incoming, ignore_errors=True)
        logger.info("uploaded %s as %s (index version %s)", filename, doc_id, report.version)
        return ChangeResult(doc_id, report, tuple(n for n in extracted.notes))

    def delete(self, doc_id: str) -> ChangeResult:
        """Remove a document from the index; its file moves to ``.deleted/`` (recoverable)."""
        with self._changing():
            if doc_id not in self._indexed_ids():
                raise ConsoleError(f"Không có văn bản “{doc_id}” trong chỉ mục.")
            source = self.source_of(doc_id)
            moved: Path | None = None
            if source is not None:
                trash = self.config.uploads_dir / ".deleted"
                trash.mkdir(parents=True, exist_ok=True)
                moved = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{source.name}"
                os.replace(source, moved)
            try:
                report = self._get_indexer().ingest([], remove=[doc_id])
                if report.failures:
                    reasons = "; ".join(r for _, r in report.failures)
                    raise ConsoleError(f"Không xoá được: {reasons}")
            except BaseException:
                if moved is not None and source is not None:
                    os.replace(moved, source)
                raise
        logger.info("deleted %s (file kept at %s)", doc_id, moved)
        return ChangeResult(doc_id, report)

    def update_metadata(self, doc_id: str, form: dict[str, str]) -> ChangeResult:
        """Write corrected metadata into the document's header and re-ingest it.

        Empty fields go back to what extraction finds in the text.
        """
        fields = clean_fields(form)
        with self._changing():
            source = self.source_of(doc_id)
            if source is None or source.suffix.lower() not in (".txt", ".md"):
                raise ConsoleError("Chỉ sửa được siêu dữ liệu của văn bản có tệp nguồn dạng văn "
                                   "bản (.txt, .md) trong thư mục do bảng điều khiển quản lý.")
            previous = source.read_bytes()
            try:
                text = previous.decode("utf-8")
            except UnicodeDecodeError:
                text = extract_file(source).text  # legacy encoding: rewrite it as UTF-8
            header, body = split_header(text.replace("\r\n", "\n"))
            header = {k: v for k, v in header.items() if k not in EDITABLE_FIELDS}
            header.update(fields)
            _atomic_write(source, render_with_header(header, body))
            try:
                report = self._ingest_file(source, doc_id)
            except BaseException:
                source.write_bytes(previous)
                raise
        logger.info("metadata of %s corrected: %s", doc_id, sorted(fields))
        return ChangeResult(doc_id, report)


def index_error_message(exc: IndexError_) -> str:
    return f"Chỉ mục chưa sẵn sàng: {exc}"
