"""Benchmarks: `uv run python -m bench.run [--quick] [--only NAME] [--db sqlite|pg|both]`."""
