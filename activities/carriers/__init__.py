"""Carrier adapters behind one interface; `local` is built in."""
