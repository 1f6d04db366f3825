"""The literary entity layer: people (and places, vehicles, organizations) as fiction names them.

en_core_web_sm is trained on news and misses fiction's people; ficlens ships its own spaCy `ner`
trained on LitBank (see models/litbank_ner/MODEL_CARD.md). It finds names ("Lydia", "Mr.
Thornbury") and common-noun people ("the old sailor") with LitBank's six labels: PER, FAC, GPE,
LOC, ORG, VEH.

The model has its own small tok2vec, so it runs on the tokens of any Doc: a Doc from
en_core_web_sm is copied word for word into the model's vocab (cheap: no tokenizer, no parse) and
the caller's Doc is never modified. It costs about what en_core_web_sm's own news `ner` costs, so
a pipeline that runs sm with `ner` disabled and this model instead is as fast as stock sm. Offsets
returned are character offsets into the text given (`doc.text` for a Doc), or token offsets with
`unit="token"`.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Literal

from .errors import Errors, FiclensError

MODEL_DIR = Path(__file__).resolve().parent / "models" / "litbank_ner"
LABELS = ("PER", "FAC", "GPE", "LOC", "ORG", "VEH")
BATCH_SIZE = 256

if TYPE_CHECKING:
    from spacy.tokens import Doc

EntitySpan = tuple[int, int, str]  # start, end (exclusive), label


@functools.lru_cache(maxsize=4)
def load_entity_model(path: str | None = None):
    """Load the literary entity model once per process (the shipped one unless `path` is given)."""
    import spacy

    model_dir = Path(path) if path else MODEL_DIR
    if not (model_dir / "meta.json").is_file():
        raise FiclensError(Errors.E301.format(path=model_dir))
    nlp = spacy.load(model_dir)
    names = model_dir / nlp.meta.get("ficlens", {}).get("given_names", "given_names.txt")
    if names.is_file():
        _GIVEN_NAMES[id(nlp)] = frozenset(
            line.strip() for line in names.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#"))
    return nlp


# id(model) -> its list of common given names (models/litbank_ner/given_names.txt). The model
# misses some names whatever their context ("Penelope" shares hashed embedding rows that say
# "place" after news training); a name from this list that it leaves out is taken as a person.
_GIVEN_NAMES: dict[int, frozenset[str]] = {}
HONORIFICS = frozenset("Mr Mrs Miss Ms Mx Dr Lady Lord Sir Madam Madame Captain Aunt Uncle".split())


def _as_model_doc(doc_or_text, nlp):
    """The model's own Doc for this input: the same tokens, in the model's vocab."""
    from spacy.tokens import Doc

    if isinstance(doc_or_text, str):
        return nlp.make_doc(doc_or_text)
    if doc_or_text.vocab is nlp.vocab:
        # Already ours (e.g. the evaluation's gold-tokenized Docs): copy so ents are not clobbered.
        return doc_or_text.copy()
    return Doc(nlp.vocab, words=[t.text for t in doc_or_text],
               spaces=[bool(t.whitespace_) for t in doc_or_text])


def _with_given_names(doc, ents: list[EntitySpan], names: frozenset[str]) -> list[EntitySpan]:
    """Add the listed given names the model left out (or labelled a place) as PER, token offsets."""
    label_at = {}
    for k, (s, e, _) in enumerate(ents):
        for i in range(s, e):
            label_at[i] = k
    out = list(ents)
    i = 0
    while i < len(doc):
        if doc[i].text not in names:
            i += 1
            continue
        k = label_at.get(i)
        if k is not None:
            s, e, label = out[k]
            if label != "PER" and e - s == 1:
                # "Penelope" alone as GPE is a person; "Penelope Bay" as LOC stays a place.
                out[k] = (s, e, "PER")
            i = e
            continue
        start, end = i, i + 1
        if start > 0 and doc[start - 1].text.rstrip(".") in HONORIFICS and start - 1 not in label_at:
            start -= 1
        while end < len(doc) and end not in label_at and doc[end].is_title and doc[end].is_alpha:
            end += 1  # a surname after the given name
        out.append((start, end, "PER"))
        i = end
    return sorted(out)


def _spans(doc, labels, unit: str, names: frozenset[str] | None) -> list[EntitySpan]:
    ents = [(e.start, e.end, e.label_) for e in doc.ents if e.label_ in LABELS]
    if names:
        ents = _with_given_names(doc, ents, names)
    ents = [x for x in ents if x[2] in labels]
    if unit == "token":
        return ents
    return [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), label) for s, e, label in ents]


def entity_spans_pipe(inputs: Iterable, *, nlp=None, labels: Iterable[str] = LABELS,
                      unit: Literal["char", "token"] = "char", given_names: bool = True,
                      batch_size: int = BATCH_SIZE) -> Iterator[list[EntitySpan]]:
    """Entity spans for each Doc or text in `inputs`, batched (the fast path for many paragraphs).

    nlp: the entity model (default: the shipped one, loaded once).
    labels: which LitBank labels to return.
    unit: "char" for character offsets into each input's text, "token" for token indices.
    given_names: also take listed given names the model missed as people (see _with_given_names).
    batch_size: Docs per batch given to spaCy.
    """
    nlp = nlp or load_entity_model()
    wanted = frozenset(labels)
    names = _GIVEN_NAMES.get(id(nlp)) if given_names else None
    docs = (_as_model_doc(x, nlp) for x in inputs)
    for doc in nlp.pipe(docs, batch_size=batch_size):
        yield _spans(doc, wanted, unit, names)


def entity_spans(doc_or_text: "Doc | str", *, labels: Iterable[str] = LABELS,
                 unit: Literal["char", "token"] = "char") -> list[EntitySpan]:
    """Entity spans of one Doc or text, as (start, end, label) with the LitBank labels."""
    return next(entity_spans_pipe([doc_or_text], labels=labels, unit=unit))


def person_spans(doc_or_text: "Doc | str") -> list[EntitySpan]:
    """People mentioned by name or common noun: [(start_char, end_char, "PER"), ...].

    Offsets are into `doc.text` for a spaCy Doc (e.g. one body paragraph from the nlp stage), or
    into the string itself. Pronouns are not entities here (LitBank leaves them to coreference).
    """
    return entity_spans(doc_or_text, labels=("PER",))


def person_spans_pipe(inputs: Iterable, *, nlp=None,
                      batch_size: int = BATCH_SIZE) -> Iterator[list[EntitySpan]]:
    """`person_spans` for many Docs or texts at once, batched (nlp: another model to use)."""
    return entity_spans_pipe(inputs, nlp=nlp, labels=("PER",), batch_size=batch_size)
