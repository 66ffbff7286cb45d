"""The index folder on disk: versions, manifest, atomic publication, memory-mapped arrays."""
