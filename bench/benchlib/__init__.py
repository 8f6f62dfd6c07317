"""Helpers of bench/bench.py: settings, processes, load generation, held requests, report."""
