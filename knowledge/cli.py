"""The ``kb`` command: ingest, search, ask, eval, stats, show, build-model.

The JSON shapes of ``search`` and ``ask`` are a contract (answer quality is measured through
them from outside): keep them stable.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

logger = logging.getLogger("kb")


def _config(args: argparse.Namespace):
    from knowledge.config import KnowledgeConfig

    return KnowledgeConfig.from_env(index_dir=Path(args.index) if args.index else None,
                                    model=getattr(args, "model", None))


def _lines(stream) -> Iterator[str]:
    for line in stream:
        line = line.strip()
        if line:
            yield line


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cmd_ingest(args: argparse.Namespace) -> int:
    from knowledge.ingest.indexer import Indexer

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    indexer = Indexer(_config(args))
    report = indexer.ingest(paths, sync=args.sync, rebuild=args.rebuild, remove=args.remove,
                            progress=None if args.quiet else lambda m: print(m, file=sys.stderr))
    for path, reason in report.failures:
        print(f"warning: skipped {path}: {reason}", file=sys.stderr)
    for path, note in report.warnings:
        print(f"note: {path}: {note}", file=sys.stderr)
    summary = (f"{len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
               f"{report.chunks_embedded} chunks embedded; index holds "
               f"{report.total_documents} documents, {report.total_chunks} chunks")
    if args.json:
        _emit(report.to_dict())
    else:
        print(summary)
    return 0


def _kb(args: argparse.Namespace):
    from knowledge.base import KnowledgeBase

    return KnowledgeBase(_config(args))


def _filters(args: argparse.Namespace):
    from knowledge.base import SearchFilters

    return SearchFilters(year=args.year, place=args.place, doc_type=args.type, issuer=args.issuer)


def _each(query: str | None, fn: Callable[[str], dict], as_json: bool,
          render: Callable[[dict], str]) -> int:
    queries = [query] if query else _lines(sys.stdin)
    for q in queries:
        result = fn(q)
        if as_json or not query:
            _emit(result)
        else:
            print(render(result))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from knowledge.retrieval.base import SearchMode

    kb, filters, mode = _kb(args), _filters(args), SearchMode.from_str(args.mode)

    def run(q: str) -> dict:
        hits = kb.search(q, k=args.k, filters=filters, mode=mode)
        return {"hits": [{"doc_id": h.chunk.doc_id, "chunk_id": h.chunk.id,
                          "score": round(h.score, 6), "text": h.chunk.text} for h in hits]}

    def render(result: dict) -> str:
        return "\n".join(f"{i}. [{h['score']:.4f}] {h['doc_id']}: {h['text'][:160]}"
                         for i, h in enumerate(result["hits"], 1)) or "(no hits)"

    return _each(args.query, run, args.json, render)


def cmd_ask(args: argparse.Namespace) -> int:
    from knowledge.answering.reply import render_reply

    kb, filters = _kb(args), _filters(args)

    def run(q: str) -> dict:
        answer = kb.ask(q, filters=filters)
        data = answer.to_dict()
        return {"answer": data["answer"], "declined": data["declined"],
                "citations": data["citations"],
                "kind": data["kind"], "confidence": data["confidence"]}

    def render(result: dict) -> str:
        from knowledge.schema import Answer, Citation

        answer = Answer(result["answer"], result["declined"],
                        tuple(Citation(**c) for c in result["citations"]))
        return render_reply(answer, document_url_base=kb.config.document_url_base,
                            link_domains=kb.config.source_link_domains)

    return _each(args.question, run, args.json, render)


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge.evaluate import evaluate_qa, format_report

    missing = [q for q in args.qa if not Path(q).is_file()]
    if missing:
        print(f"error: no such question file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        report = evaluate_qa(_kb(args), [Path(q) for q in args.qa], limit=args.limit,
                             fold=args.fold, retrieval=not args.no_retrieval)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _emit(report.summary())
    else:
        print(format_report(report))
    if args.details:
        with open(args.details, "w", encoding="utf-8") as fh:
            for row in report.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from knowledge.index.store import read_index

    data = read_index(_config(args).index_dir)
    docs = [s.document for s in data.documents.values()]
    stats = {
        "index": str(_config(args).index_dir), "version": data.version,
        "model": data.manifest.model, "dimension": data.manifest.dimension,
        "documents": len(docs), "chunks": len(data.chunks),
        "by_type": dict(Counter(d.meta.doc_type or "?" for d in docs).most_common()),
        "by_year": dict(sorted(Counter(str(d.meta.year or "?") for d in docs).items())),
        "by_place": dict(Counter(p for d in docs for p in d.meta.places).most_common(20)),
    }
    if args.json:
        _emit(stats)
    else:
        for key, value in stats.items():
            print(f"{key:>10}: {value}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from knowledge.index.store import read_index

    data = read_index(_config(args).index_dir)
    stored = data.documents.get(args.doc_id)
    if stored is None:
        print(f"error: no document '{args.doc_id}' in the index", file=sys.stderr)
        return 2
    chunks = [c for c in data.chunks if c.doc_id == args.doc_id]
    result = {"id": args.doc_id, "meta": stored.document.meta.to_dict(),
              "chunks": [c.to_dict() for c in chunks]}
    if args.json:
        _emit(result)
    else:
        for key, value in result["meta"].items():
            print(f"{key:>10}: {value}")
        for c in chunks:
            print(f"\n--- {c.id} [{c.start}:{c.end}] {c.heading}\n{c.text}")
    return 0


def cmd_build_model(args: argparse.Namespace) -> int:
    if args.onnx_only:
        from knowledge.embedding.onnx_export import export_onnx

        for path in export_onnx(Path(args.out)).values():
            print(f"wrote {path}")
        return 0
    from knowledge.embedding.convert_e5 import build_sentence_transformer

    out = build_sentence_transformer(Path(args.out))
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="CCHC knowledge base")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_index(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--index", help="index folder (default: $KB_INDEX or var/index)")
        p.add_argument("--model", help="sentence-transformers model name or path ($KB_MODEL)")
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    def with_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--year", type=int, help="only documents about this year")
        p.add_argument("--place", help="only documents about this province")
        p.add_argument("--type", help="only this loại văn bản (e.g. 'Kế hoạch')")
        p.add_argument("--issuer", help="only documents whose issuer contains this")

    p = with_index(sub.add_parser("ingest", help="add/update files or folders in the index"))
    p.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .docx .pdf .jsonl)")
    p.add_argument("--sync", action="store_true", help="delete indexed documents not under PATHs")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--remove", action="append", default=[], metavar="DOC_ID",
                   help="delete this document id (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = with_index(sub.add_parser("search", help="retrieve passages (QUERY or one per stdin line)"))
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", default="hybrid", help="hybrid, sparse or dense")
    with_filters(p)
    p.set_defaults(func=cmd_search)

    p = with_index(sub.add_parser("ask", help="answer a question (or one per stdin line)"))
    p.add_argument("question", nargs="?")
    with_filters(p)
    p.set_defaults(func=cmd_ask)

    p = with_index(sub.add_parser("eval", help="score qa.jsonl question files (several: one "
                                                "report, with figures per file)"))
    p.add_argument("qa", nargs="+")
    p.add_argument("--limit", type=int, help="the first N questions of each file")
    p.add_argument("--fold", action="store_true",
                   help="ask every question without diacritics and in lower case")
    p.add_argument("--no-retrieval", action="store_true",
                   help="skip the retrieval ranks (one search less per question)")
    p.add_argument("--details", help="write per-question results (jsonl) here")
    p.set_defaults(func=cmd_eval)

    p = with_index(sub.add_parser("stats", help="documents and chunks by type, year, place"))
    p.set_defaults(func=cmd_stats)

    p = with_index(sub.add_parser("show", help="a document's metadata and chunks"))
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("build-model", help="build the offline multilingual-e5-small folder "
                       "(with its ONNX fp32 and int8 graphs)")
    p.add_argument("--out", required=True)
    p.add_argument("--onnx-only", action="store_true",
                   help="only (re)export the ONNX graphs of the existing folder OUT")
    p.set_defaults(func=cmd_build_model)
    return parser


def main(argv: list[str] | None = None) -> int:
    if _offline_model():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from knowledge.index.store import IndexError_
    from knowledge.ingest.loaders import LoadError

    try:
        return args.func(args)
    except (IndexError_, LoadError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _offline_model() -> bool:
    """The default model is a local folder: never let transformers try a hub for it."""
    return not os.environ.get("KB_MODEL") or Path(os.environ["KB_MODEL"]).exists()


if __name__ == "__main__":
    sys.exit(main())
