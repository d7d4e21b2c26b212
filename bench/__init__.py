"""Benchmarks: each ``bench/<scenario>.py`` has ``main() -> dict`` and is run by ``bench.run``."""
