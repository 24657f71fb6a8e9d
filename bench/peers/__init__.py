"""Benchmarks against other ticket systems on the same generated mail (see rt.py)."""
