"""Evaluations against gold data (`ficlens eval NAME`).

Each evaluation is a function `(data_dir: Path, **options) -> EvalResult`, registered here by name;
the data lives outside the package (`--data DIR`), so a missing folder is a clear error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import FiclensError


@dataclass
class EvalResult:
    name: str
    metrics: dict[str, float]  # the headline figures, e.g. {"recall": 0.993}
    details: dict = field(default_factory=dict)  # per-novel or per-type breakdowns
    notes: str = ""  # how it was scored, in one or two sentences


EVALUATIONS: dict[str, Callable[..., EvalResult]] = {}


def register(name: str):
    def wrap(fn):
        EVALUATIONS[name] = fn
        return fn

    return wrap


def run(name: str, data_dir: Path, **options) -> EvalResult:
    _load_all()
    if name not in EVALUATIONS:
        raise FiclensError(f"unknown evaluation {name!r}; choose from: {', '.join(sorted(EVALUATIONS))}")
    if not data_dir.is_dir():
        raise FiclensError(f"{data_dir}: gold data folder not found (pass --data DIR)")
    return EVALUATIONS[name](data_dir, **options)


def names() -> list[str]:
    _load_all()
    return sorted(EVALUATIONS)


def _load_all() -> None:
    # Importing a module registers its evaluations; a module that is not written yet is skipped.
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
