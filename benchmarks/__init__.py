"""Runnable benchmarks of the knowledge base (``python -m benchmarks.<name>``).

Each prints a table and writes its figures as JSON to ``var/benchmarks/``; see
docs/benchmarks.md for the figures, how they were measured and how to reproduce them.
"""
