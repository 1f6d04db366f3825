"""Limits a user can set; the defaults suit any real story and stop hostile input early."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024 * 1024           # size of one input file
    max_expanded_bytes: int = 256 * 1024 * 1024  # what an EPUB or archive may unpack to
    max_members: int = 10_000                    # files inside one EPUB or archive
    timeout_seconds: float = 600.0               # one story in a corpus run


DEFAULT_LIMITS = Limits()
