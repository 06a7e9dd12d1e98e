"""Subcommands (filled in by their issues)."""

REGISTRARS: list = []
