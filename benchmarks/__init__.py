"""Benchmarks of mockhub against a bare aiohttp app: ``python -m benchmarks`` (docs/performance.md)."""
