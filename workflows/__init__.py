"""Temporal workflows. Deterministic: they import domain/ and activity references only."""
