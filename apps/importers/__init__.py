"""Importers: the original News Tunneler's SQLite database (legacy.py) and the move from the embedded
SQLite to PostgreSQL (move.py). No models of their own; they write the other apps' tables."""
