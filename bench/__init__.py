"""Benchmarks, each run from the project root as `python -m bench.<name>` (see each docstring)."""
