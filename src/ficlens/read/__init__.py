"""Readers: a file (txt, html, epub) becomes a `Story` with its declared metadata in `meta`."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import Errors, InputError, LimitError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import Source, Story
from .normalize import normalize
from .text import decode

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
EPUB_SUFFIXES = {".epub"}


def read_path(path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> Story:
    """Read one story file; raises InputError with a message a user can act on."""
    name = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError as e:
        raise InputError(Errors.E001.format(path=name)) from e
    except (OSError, ValueError) as e:  # too long a name, a NUL in it, a loop of links, no permission
        reason = getattr(e, "strerror", None) or e
        raise InputError(Errors.E003.format(path=name, reason=reason)) from e
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Errors.E002.format(path=name))
    if not stat.S_ISREG(st.st_mode):
        # A FIFO would block and /dev/zero would never end: only regular files are stories.
        raise InputError(Errors.E003.format(path=name, reason="not a regular file"))
    if st.st_size > limits.max_bytes:
        raise LimitError(Errors.E005.format(path=name, size=st.st_size, limit=limits.max_bytes))
    try:
        with open(path, "rb") as f:
            raw = f.read(limits.max_bytes + 1)  # bounded: the file may grow after stat()
    except OSError as e:
        raise InputError(Errors.E003.format(path=name, reason=e.strerror or e)) from e
    if len(raw) > limits.max_bytes:
        raise LimitError(Errors.E005.format(path=name, size=len(raw), limit=limits.max_bytes))
    return read_bytes(raw, name, limits=limits)


def read_bytes(raw: bytes, name: str, limits: Limits = DEFAULT_LIMITS, fmt: str | None = None) -> Story:
    """Read a story from bytes; `fmt` (txt|html|epub) overrides the guess from the name and content."""
    if len(raw) > limits.max_bytes:
        raise LimitError(Errors.E005.format(path=name, size=len(raw), limit=limits.max_bytes))
    fmt = fmt or guess_format(raw, name)
    if fmt == "epub":
        from .epub import read_epub

        return read_epub(raw, name, limits)
    text, encoding = decode(raw, name)
    if fmt == "html":
        from .html import read_html

        return read_html(text, name, encoding)
    return story_from_text(text, Source(path=name, format="txt", encoding=encoding))


def story_from_text(source_text: str, source: Source, meta: dict | None = None) -> Story:
    text, offsets = normalize(source_text)
    return Story(source=source, source_text=source_text, text=text, offsets=offsets, meta=meta or {})


def guess_format(raw: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in EPUB_SUFFIXES or raw[:4] == b"PK\x03\x04":
        return "epub"
    if suffix in HTML_SUFFIXES:
        return "html"
    head = raw[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if suffix in TEXT_SUFFIXES or suffix not in HTML_SUFFIXES | EPUB_SUFFIXES:
        return "txt"
    raise InputError(Errors.E008.format(path=name, suffix=suffix))
