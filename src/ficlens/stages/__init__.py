"""Pipeline stages, one module each, in data-flow order."""
from __future__ import annotations


def default_stages() -> list:
    from .nlp import NlpStage
    from .quotes import QuoteStage
    from .structure import StructureStage

    return [StructureStage(), QuoteStage(), NlpStage()]
