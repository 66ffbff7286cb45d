"""From files to an index version: loaders (one module per file format), metadata, structural
chunks, structured facts, and the incremental :class:`~knowledge.ingest.indexer.Indexer`.

The package is also the public API's ``knowledge.ingest(paths, index_dir=None, sync=False)``:
calling it ingests (:func:`knowledge.ingest.indexer.ingest_paths`), so that the flat API and
the subpackage share one name without one hiding the other.
"""

from __future__ import annotations

import sys
import types


class _IngestPackage(types.ModuleType):
    def __call__(self, paths, index_dir=None, sync: bool = False):
        from knowledge.ingest.indexer import ingest_paths

        return ingest_paths(paths, index_dir=index_dir, sync=sync)


sys.modules[__name__].__class__ = _IngestPackage
