"""Evaluation question sets and the scripts that generate them (see docs/benchmarks.md)."""
