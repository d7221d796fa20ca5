"""Loaders for the benchmark datasets (being implemented)."""
