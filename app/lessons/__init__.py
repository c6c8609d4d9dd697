"""Lessons: lesson files (``library/*.toml`` and a teacher's folder), their loader, and the player pages."""
