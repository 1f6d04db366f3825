"""The stage contract and the pipeline that composes stages.

A stage names the layers it `requires` and `assigns`; the pipeline checks the chain once, at
construction, so a wrong composition fails before any story is read (spaCy's component contract).
"""
from __future__ import annotations

import time
from typing import ClassVar, Iterable, Sequence

from .errors import Errors, PipelineError
from .model import Story

# Layers a freshly read Story already has.
READ_LAYERS = frozenset({"text", "meta"})


class Stage:
    """Base class: subclasses set the three class attributes and implement `__call__`."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    assigns: ClassVar[tuple[str, ...]] = ()

    def __call__(self, story: Story) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def pipe(self, stories: Sequence[Story]) -> None:
        """Process a batch; stages with a batched model (spaCy) override this."""
        for story in stories:
            self(story)


class Pipeline:
    def __init__(self, stages: Iterable[Stage]):
        self.stages = list(stages)
        have = set(READ_LAYERS)
        for stage in self.stages:
            for layer in stage.requires:
                if layer not in have:
                    raise PipelineError(Errors.E101.format(stage=stage.name, layer=layer))
            have.update(stage.assigns)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    def until(self, name: str) -> "Pipeline":
        """The prefix of this pipeline that ends with stage `name`."""
        if name not in self.names:
            raise PipelineError(Errors.E102.format(stage=name, names=", ".join(self.names)))
        return Pipeline(self.stages[: self.names.index(name) + 1])

    def __call__(self, story: Story) -> Story:
        for stage in self.stages:
            stage(story)
            story.layers.update(stage.assigns)
        return story

    def pipe(self, stories: Sequence[Story], timings: dict[str, float] | None = None) -> list[Story]:
        """Run a batch stage by stage, so batched models see many stories at once.

        timings: if given, the seconds each stage took are added to it under the stage's name.
        """
        stories = list(stories)
        for stage in self.stages:
            started = time.perf_counter()
            stage.pipe(stories)
            if timings is not None:
                timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - started
            for story in stories:
                story.layers.update(stage.assigns)
        return stories


def default_pipeline() -> Pipeline:
    """Every stage ficlens has, in data-flow order."""
    from .stages import default_stages

    return Pipeline(default_stages())
