"""Trove: a transparent indexer and knowledge base over the files you already have."""

__version__ = "0.1.0"
