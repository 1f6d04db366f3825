"""Pipeline stages, one module each, in data-flow order."""
from __future__ import annotations


def default_stages() -> list:
    from .attribution import AttributionStage
    from .characters import CharacterStage
    from .coref import CorefStage, QuotePronounStage
    from .mentions import MentionStage
    from .narration import NarrationStage
    from .nlp import NlpStage
    from .quotes import QuoteStage
    from .relations import RelationStage
    from .structure import StructureStage
    from .tags import TagStage

    return [StructureStage(), QuoteStage(), NlpStage(), MentionStage(), CharacterStage(),
            NarrationStage(), CorefStage(), AttributionStage(), QuotePronounStage(),
            RelationStage(), TagStage()]
