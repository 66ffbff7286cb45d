"""From files to an index version: loaders (one module per file format), metadata, structural
chunks, structured facts, and the incremental :class:`~knowledge.ingest.indexer.Indexer`."""
