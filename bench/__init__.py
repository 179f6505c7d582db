"""Benchmarks, one module per benchmark, run with ``ponte bench NAME``."""
