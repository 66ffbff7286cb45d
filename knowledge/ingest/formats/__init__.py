"""One module per file format, each turning a file into
:class:`~knowledge.ingest.formats.base.Extracted` (text, the metadata the file states, notes for
the operator)."""
