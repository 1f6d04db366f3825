"""The library entry points: read a story and run the pipeline on it."""
from __future__ import annotations

import os

from .errors import Errors, InputError
from .limits import DEFAULT_LIMITS, Limits
from .model import Source, Story
from .pipeline import Pipeline, default_pipeline
from .read import read_path, story_from_text

_DEFAULT: Pipeline | None = None


def get_pipeline(until: str | None = None) -> Pipeline:
    """The default pipeline (built once per process), or its prefix ending at stage `until`."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = default_pipeline()
    return _DEFAULT.until(until) if until else _DEFAULT


def analyze_path(path: str | os.PathLike, *, until: str | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> Story:
    story = read_path(path, limits)
    if not story.text.strip():
        raise InputError(Errors.E010.format(path=path))
    return get_pipeline(until)(story)


def analyze_text(text: str, *, name: str = "<text>", until: str | None = None) -> Story:
    return get_pipeline(until)(story_from_text(text, Source(path=name, format="txt", encoding="utf-8")))
