"""The library entry points: read a story and run the pipeline on it."""
from __future__ import annotations

import os
import time

from .errors import Errors, InputError, LimitError
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
    """Read one story file and run the pipeline (up to stage `until`) on it.

    Raises InputError when the file cannot be read as a story, and LimitError (E011) when the
    analysis runs past `limits.timeout_seconds`, counted from the start of reading (see
    `run_with_deadline` for when the time is checked).
    """
    pipeline = get_pipeline(until)  # built before the clock starts: it is shared by every story
    started = time.monotonic()
    story = read_path(path, limits)
    if not story.text.strip():
        raise InputError(Errors.E010.format(path=path))
    return run_with_deadline(pipeline, story, started=started, seconds=limits.timeout_seconds,
                             name=str(path))


def analyze_text(text: str, *, name: str = "<text>", until: str | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> Story:
    pipeline = get_pipeline(until)
    started = time.monotonic()
    story = story_from_text(text, Source(path=name, format="txt", encoding="utf-8"))
    return run_with_deadline(pipeline, story, started=started, seconds=limits.timeout_seconds, name=name)


def run_with_deadline(pipeline: Pipeline, story: Story, *, started: float, seconds: float,
                      name: str) -> Story:
    """Run `pipeline` on `story` stage by stage; raise LimitError (E011) when, before a stage
    starts, more than `seconds` have passed since `started` (a `time.monotonic()` reading).

    The time is checked between stages only: a stage already running (a long spaCy parse) is never
    interrupted, so a story can overrun by the length of its slowest stage. A hard limit that stops
    the work mid-stage is the corpus runner's (`ficlens corpus run`), which runs stories in worker
    processes it can kill.
    """
    deadline = started + seconds
    for stage in pipeline.stages:
        if time.monotonic() > deadline:
            raise LimitError(Errors.E011.format(path=name, seconds=f"{seconds:g}"))
        stage(story)
        story.layers.update(stage.assigns)
    return story
