"""LitBank coreference (Bamman, Lewke and Mansoor 2020; CC BY 4.0): reader and `litbank-coref`.

What is scored: PERSON entities only (mentions LitBank types PER: names, common nouns, pronouns),
with MUC, B-cubed and CEAF-e and their average, micro-averaged over the test documents of the ten
published folds (`splits/lrec2020_coref_tenfold`; every document is a test document exactly once).
Two settings:

(a) gold mentions: the gold PER mentions are given (as name / nominal / pronoun mentions with no
    character), and ficlens's resolver clusters them;
(b) end to end: ficlens's own pipeline finds the mentions (mentions, characters, narration,
    coref, attribution, then `resolve_quote_pronouns`), and its clusters (character ids, and the
    resolver's clusters for mentions without a character) are scored against the gold PER
    entities. A mention counts only when its span matches a gold mention exactly.

The learned ranker is trained anew for each fold on that fold's train documents (thresholds tuned
on its dev documents), so no test document is ever seen in training; the shipped model
(`models/coref/`) is the same recipe fitted on all 100 documents.

Documents: the conll files give the mentions and entities (as the published benchmark does: the
brat files list mentions twice), the tsv .ann files the entity type of each mention. LitBank's
text is tokens, one sentence a line; the paragraph breaks and the spacing between tokens are
recovered by aligning the tokens to the full text in `original/` (where that fails, tokens are
joined with spaces in one paragraph), because ficlens reads quotes and turns per paragraph.
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import Errors, FiclensError
from ..model import Mention, Section, Source, Story
from ..read.normalize import ONE_FOR_ONE
from . import EvalResult, register
from .coref_metrics import CorefScore

COREF_DIR = Path("coref")
SPLIT_DIR = Path("splits") / "lrec2020_coref_tenfold"
FOLDS = 10
# BookNLP's published LitBank coreference average F1 (its README), for the README's comparison.
BOOKNLP_AVG_F1 = {"small": 0.764, "big": 0.790}
KIND_OF_CATEGORY = {"PROP": "name", "NOM": "nominal", "PRON": "pronoun"}


@dataclass
class GoldMention:
    start: int  # token index, end exclusive
    end: int
    entity: str
    label: str  # PER, FAC, GPE, LOC, ORG, VEH (or "" when the .ann does not list the span)
    category: str  # PROP, NOM, PRON


@dataclass
class CorefDoc:
    name: str
    words: list[str]
    sentence_starts: list[int]  # token index where each sentence starts
    mentions: list[GoldMention]
    # Filled by `rebuild`:
    text: str = ""
    token_spans: list[tuple[int, int]] = field(default_factory=list)
    paragraphs: list[tuple[int, int]] = field(default_factory=list)
    aligned: float = 0.0  # share of tokens found in the original text

    def person_mentions(self) -> list[GoldMention]:
        return [m for m in self.mentions if m.label == "PER"]

    def char_span(self, m: GoldMention) -> tuple[int, int]:
        return self.token_spans[m.start][0], self.token_spans[m.end - 1][1]

    def gold_person_entities(self) -> list[list[tuple[int, int]]]:
        ents: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for m in self.person_mentions():
            ents[m.entity].append(self.char_span(m))
        return list(ents.values())


# ---------------------------------------------------------------------------------------------------
# Reading
_OPEN = re.compile(r"\((\d+)\)?")


def read_conll(path: Path) -> tuple[list[str], list[int], list[tuple[int, int, str]]]:
    """Tokens, sentence starts and (start, end exclusive, entity id) mentions of one conll file."""
    words: list[str] = []
    starts: list[int] = []
    mentions: list[tuple[int, int, str]] = []
    open_: dict[str, list[int]] = defaultdict(list)
    new_sentence = True
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("#"):
            continue
        if not line.strip():
            new_sentence = True
            continue
        cols = line.split("\t")
        if new_sentence:
            starts.append(len(words))
            new_sentence = False
        i = len(words)
        words.append(cols[3])
        tag = cols[-1].strip() if len(cols) > 4 else "_"
        if tag in ("", "_", "-"):
            continue
        for part in tag.split("|"):
            if part.startswith("("):
                eid = part.strip("()")
                if part.endswith(")"):
                    mentions.append((i, i + 1, eid))
                else:
                    open_[eid].append(i)
            elif part.endswith(")"):
                eid = part.strip("()")
                mentions.append((open_[eid].pop(), i + 1, eid))
    return words, starts, mentions


def read_ann_types(path: Path, sentence_starts: list[int]) -> dict[tuple[int, int], tuple[str, str]]:
    """(token start, token end exclusive) -> (label, category) from a tsv .ann file."""
    out: dict[tuple[int, int], tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        cols = line.split("\t")
        if cols[0] != "MENTION" or len(cols) < 9:
            continue
        s0, t0, s1, t1 = (int(x) for x in cols[2:6])
        a = sentence_starts[s0] + t0
        b = sentence_starts[s1] + t1 + 1
        out[(a, b)] = (cols[7], cols[8])
    return out


def read_doc(litbank_dir: Path, name: str) -> CorefDoc:
    """One LitBank coref document by its split id ("105_persuasion_brat.tsv" or the stem)."""
    stem = name.removesuffix(".tsv").removesuffix(".conll").removesuffix(".ann")
    conll = litbank_dir / COREF_DIR / "conll" / f"{stem}.conll"
    ann = litbank_dir / COREF_DIR / "tsv" / f"{stem}.ann"
    if not conll.is_file():
        raise FiclensError(Errors.E304.format(path=conll))
    words, starts, spans = read_conll(conll)
    types = read_ann_types(ann, starts) if ann.is_file() else {}
    mentions = [GoldMention(a, b, eid, *types.get((a, b), ("", ""))) for a, b, eid in spans]
    mentions.sort(key=lambda m: (m.start, -m.end))
    doc = CorefDoc(stem, [w.translate(ONE_FOR_ONE) for w in words], starts, mentions)
    rebuild(doc, litbank_dir / "original")
    return doc


def split_ids(litbank_dir: Path, fold: int, split: str) -> list[str]:
    path = litbank_dir / SPLIT_DIR / str(fold) / f"{split}.ids"
    if not path.is_file():
        raise FiclensError(Errors.E304.format(path=path))
    return [line.strip() for line in path.read_text().split("\n") if line.strip()]


# ---------------------------------------------------------------------------------------------------
# Rebuilding the text
_TOKEN_FORMS = {"``": '"', "''": '"', "-LRB-": "(", "-RRB-": ")", "`": "'"}


def _original_for(original_dir: Path, stem: str) -> str | None:
    path = original_dir / f"{stem.removesuffix('_brat')}.txt"
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace").translate(ONE_FOR_ONE).replace("\r", "")


def rebuild(doc: CorefDoc, original_dir: Path) -> None:
    """Join the tokens into text, with the spacing and paragraph breaks of the original."""
    words = [_TOKEN_FORMS.get(w, w) for w in doc.words]
    original = _original_for(original_dir, doc.name)
    seps = _separators(words, original) if original else None
    found = 0
    if seps is None:
        seps = [" "] * len(words)
    else:
        found = sum(1 for s in seps if s is not None)
        seps = [" " if s is None else s for s in seps]
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    paragraphs: list[tuple[int, int]] = []
    pos = 0
    para_start = 0
    for i, w in enumerate(words):
        sep = seps[i] if i else ""
        if sep == "\n\n":
            paragraphs.append((para_start, pos))
            para_start = pos + 2
        parts.append(sep)
        pos += len(sep)
        spans.append((pos, pos + len(w)))
        parts.append(w)
        pos += len(w)
    paragraphs.append((para_start, pos))
    doc.text = "".join(parts)
    doc.token_spans = spans
    doc.paragraphs = [(a, b) for a, b in paragraphs if b > a]
    doc.aligned = found / max(1, len(words))


def _separators(words: list[str], original: str) -> list[str | None] | None:
    """For each token, what separated it from the one before in `original`: "" (nothing), " ",
    "\\n\\n" (a paragraph break), or None where the token could not be found."""
    # Only the stretch of the novel the excerpt comes from is aligned: find its first words.
    for n in (8, 4):
        first = re.compile(r"\s*".join(re.escape(w) for w in words[:n]))
        m = first.search(original)
        if m:
            original = original[m.start(): m.start() + 2 * sum(len(w) + 1 for w in words) + 5000]
            break
    compact_chars = []
    positions = []
    for i, c in enumerate(original):
        if not c.isspace():
            compact_chars.append(c)
            positions.append(i)
    compact = "".join(compact_chars)
    # Anchor: the first tokens, joined, found in the whitespace-free original.
    head = "".join(w for w in words[:12])
    at = compact.find(head)
    if at < 0:
        head = "".join(w for w in words[:5])
        at = compact.find(head)
    if at < 0:
        return None
    seps: list[str | None] = []
    cursor = at  # index into compact
    prev_end = None  # index into original just after the previous token
    for w in words:
        k = cursor if compact.startswith(w, cursor) else compact.find(w, cursor, cursor + 40 + len(w))
        if k < 0 or not w:
            seps.append(None)
            continue
        start = positions[k]
        if prev_end is None:
            seps.append("")
        else:
            gap = original[prev_end:start]
            if not gap:
                seps.append("")
            elif gap.count("\n") >= 2 and not gap.strip():
                seps.append("\n\n")
            elif not gap.strip():
                seps.append(" ")
            else:
                seps.append(" ")  # skipped text (a footnote mark, a dropped token): just a space
        cursor = k + len(w)
        prev_end = positions[cursor - 1] + 1
    return seps


# ---------------------------------------------------------------------------------------------------
# Stories
def make_story(doc: CorefDoc) -> Story:
    """A Story of the rebuilt text, one body section, the recovered paragraphs (not parsed yet)."""
    story = Story(source=Source(path=f"litbank:{doc.name}", format="txt"), source_text=doc.text,
                  text=doc.text, offsets=_identity())
    story.sections = [Section("body", 0, len(doc.text))]
    story.paragraphs = list(doc.paragraphs)
    story.layers.update({"text", "meta", "sections", "paragraphs", "title"})
    return story


def _identity():
    from ..model import OffsetMap

    return OffsetMap.identity()


def parse_stories(docs: list[CorefDoc]) -> list[Story]:
    """Stories with quotes and the spaCy parse (batched over all documents)."""
    from ..stages.nlp import NlpStage
    from ..stages.quotes import QuoteStage

    stories = [make_story(d) for d in docs]
    quotes = QuoteStage()
    for s in stories:
        quotes(s)
        s.layers.add("quotes")
    NlpStage().pipe(stories)
    for s in stories:
        s.layers.add("docs")
    return stories


def gold_person_mentions(doc: CorefDoc) -> tuple[list[Mention], list[str]]:
    """The gold PER mentions as story mentions (no character) and their gold entity ids."""
    pairs = []
    for m in doc.person_mentions():
        s, e = doc.char_span(m)
        pairs.append((Mention(s, e, KIND_OF_CATEGORY.get(m.category, "nominal")), m.entity))
    pairs.sort(key=lambda p: (p[0].start, -p[0].end))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def clusters_of(mentions: list[Mention], assign: list[int]) -> list[list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for m, eid in zip(mentions, assign):
        out[eid].append((m.start, m.end))
    return list(out.values())


# ---------------------------------------------------------------------------------------------------
# Training (the same recipe as training/train_coref.py)
def training_blocks(story: Story, mentions: list[Mention], gold: list[str]) -> list:
    """Per mention: ([new-entity features, candidate features...], index of the right choice)."""
    from ..stages.coref import build_facts, resolve

    facts = build_facts(story, mentions)
    blocks: list = []
    resolve(facts, None, {}, oracle=gold, blocks=blocks)
    return blocks


def fit_ranker(blocks: list, *, l2: float = 1.0, max_iter: int = 400, start=None):
    """Fit the mention-ranking weights: maximise the likelihood of the right choice under a
    softmax over each mention's options (new entity or a candidate), with an L2 penalty.

    start: a Ranker whose weights start the optimisation (the objective is convex, so this only
    makes it faster: folds that share most of their training documents converge in fewer steps).
    """
    import numpy as np
    from scipy.optimize import minimize
    from sklearn.feature_extraction import DictVectorizer

    from ..stages.coref import Ranker

    rows: list[dict] = []
    starts: list[int] = []
    labels: list[int] = []
    for options, label in blocks:
        starts.append(len(rows))
        labels.append(len(rows) + label)
        rows.extend(options)
    vec = DictVectorizer()
    x = vec.fit_transform(rows).tocsr()
    xt = x.T.tocsr()
    n = x.shape[0]
    starts_a = np.array(starts)
    block_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts_a, n)))
    label_a = np.array(labels)

    def objective(w):
        s = x @ w
        mx = np.maximum.reduceat(s, starts_a)
        ex = np.exp(s - mx[block_of])
        tot = np.add.reduceat(ex, starts_a)
        loss = float(np.sum(np.log(tot) + mx) - s[label_a].sum()) + 0.5 * l2 * float(w @ w)
        p = ex / tot[block_of]
        p[label_a] -= 1.0
        grad = xt @ p + l2 * w
        return loss, grad

    w0 = np.zeros(x.shape[1])
    if start is not None:
        w0 = np.array([start.weights.get(name, 0.0) for name in vec.feature_names_])
    res = minimize(objective, w0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter})
    weights = {name: round(float(v), 5) for name, v in zip(vec.feature_names_, res.x) if abs(v) > 1e-5}
    return Ranker(weights, {}, {"kind": "mention-ranking softmax", "mentions": len(blocks),
                                "l2": l2, "iterations": int(res.nit)})


def decode_docs(items: list[tuple[Story, list[Mention], list[str]]], ranker) -> CorefScore:
    """Cluster each (story, gold mentions, gold entity ids) with `ranker` and score it."""
    from ..stages.coref import build_facts, resolve

    score = CorefScore()
    for story, mentions, gold in items:
        facts = build_facts(story, mentions)
        assign, _ = resolve(facts, ranker)
        key: dict[str, list] = defaultdict(list)
        for m, g in zip(mentions, gold):
            key[g].append((m.start, m.end))
        score.add(key.values(), clusters_of(mentions, assign))
    return score


TUNED_GROUPS = (("name",), ("nom",), ("they",), ("he", "she"), ("i", "we", "you"))


def tune_new_bias(ranker, items, *, grid=(-1.0, -0.5, 0.0, 0.5, 1.0)) -> None:
    """Per group of mention groups, the shift of the new-entity score that maximises the average
    F1 on `items` (held-out documents), one group after the other."""
    for groups in TUNED_GROUPS:
        best_b, best_s = 0.0, -1.0
        for b in grid:
            for g in groups:
                ranker.new_bias[g] = b
            s = decode_docs(items, ranker).average_f1
            if s > best_s + 1e-9:
                best_b, best_s = b, s
        for g in groups:
            ranker.new_bias[g] = best_b


# ---------------------------------------------------------------------------------------------------
# End to end
def end_to_end(story: Story, ranker, *, entity_model: bool = False,
               attribution: bool = True) -> tuple[list, list | None]:
    """Run ficlens's own stages after the parse (with this coref `ranker`).

    Returns the predicted person entities (lists of (start, end)) right after the coref stage, and
    again after the attribution stage and `resolve_quote_pronouns` (None when attribution is off
    or not installed)."""
    from ..stages.characters import CharacterStage
    from ..stages.coref import CorefStage, resolve_quote_pronouns
    from ..stages.mentions import MentionStage
    from ..stages.narration import NarrationStage

    for stage in (MentionStage(entity_model=entity_model), CharacterStage(), NarrationStage()):
        stage(story)
        story.layers.update(stage.assigns)
    coref = CorefStage(ranker=ranker)
    decisions = coref.match(story)
    coref.set_annotations(story, decisions)
    entity_of = {(m.start, m.end, m.kind): eid for m, (eid, _) in zip(story.mentions, decisions)}
    after_coref = _story_clusters(story, entity_of)
    if not attribution:
        return after_coref, None
    try:
        from ..stages.attribution import AttributionStage
    except ImportError:
        return after_coref, None
    AttributionStage()(story)
    resolve_quote_pronouns(story)
    return after_coref, _story_clusters(story, entity_of)


def _story_clusters(story: Story, entity_of: dict) -> list[list[tuple[int, int]]]:
    """Mentions grouped by character, or by the resolver's entity when they have none."""
    clusters: dict = defaultdict(list)
    seen: set = set()
    for m in story.mentions:
        if (m.start, m.end) in seen:
            continue  # one span, one mention (a name can also be listed as a vocative)
        seen.add((m.start, m.end))
        key = ("c", m.character) if m.character else ("e", entity_of.get((m.start, m.end, m.kind), -len(seen)))
        clusters[key].append((m.start, m.end))
    return list(clusters.values())


# ---------------------------------------------------------------------------------------------------
# The evaluation
@register("litbank-coref")
def evaluate(data_dir: Path, *, folds: tuple[int, ...] = tuple(range(FOLDS)), settings=("gold", "end-to-end"),
             tune: bool = True, entity_model: bool = False, **_options) -> EvalResult:
    """Person-entity coreference on the test documents of LitBank's ten published folds.

    data_dir: the gold data folder (holding litbank/).
    folds: which folds to score (all ten is the published figure).
    settings: "gold" (gold person mentions given) and/or "end-to-end" (ficlens's own mentions).
    tune: tune each fold's new-entity biases on its dev documents.
    entity_model: let the end-to-end mentions stage use ficlens's literary entity model. Off by
        default: that model was trained on LitBank's entity split, whose training documents
        include most of the coreference test documents.
    """
    litbank = Path(data_dir) / "litbank"
    if not (litbank / COREF_DIR / "conll").is_dir():
        raise FiclensError(Errors.E304.format(path=litbank / COREF_DIR / "conll"))
    started = time.perf_counter()
    needed = set()
    for fold in folds:
        for split in ("train", "dev", "test"):
            needed.update(i.removesuffix(".tsv") for i in split_ids(litbank, fold, split))
    names = sorted(needed)
    docs = {n: read_doc(litbank, n) for n in names}
    parse_started = time.perf_counter()
    stories = dict(zip(names, parse_stories([docs[n] for n in names])))
    parse_seconds = time.perf_counter() - parse_started
    gold_items = {}
    blocks = {}
    for n in names:
        mentions, gold = gold_person_mentions(docs[n])
        gold_items[n] = (stories[n], mentions, gold)
        blocks[n] = training_blocks(stories[n], mentions, gold)
    gold_score = CorefScore()
    per_fold: dict[int, dict] = {}
    rankers = {}
    ranker = None
    resolve_seconds = 0.0
    for fold in folds:
        train = [i.removesuffix(".tsv") for i in split_ids(litbank, fold, "train")]
        dev = [i.removesuffix(".tsv") for i in split_ids(litbank, fold, "dev")]
        test = [i.removesuffix(".tsv") for i in split_ids(litbank, fold, "test")]
        ranker = fit_ranker([b for n in train for b in blocks[n]], start=ranker)
        if tune:
            tune_new_bias(ranker, [gold_items[n] for n in dev])
        rankers[fold] = ranker
        t0 = time.perf_counter()
        fold_score = decode_docs([gold_items[n] for n in test], ranker)
        resolve_seconds += time.perf_counter() - t0
        gold_score.add_score(fold_score)
        per_fold[fold] = {"gold_avg_f1": round(fold_score.average_f1, 4), "test": test,
                          "new_bias": dict(ranker.new_bias)}
    metrics: dict[str, float] = {}
    if "gold" in settings:
        metrics.update({f"gold_{k}": round(v, 4) for k, v in gold_score.as_dict().items()})
    e2e_ran: dict = {}
    if "end-to-end" in settings:
        e2e, e2e_coref = CorefScore(), CorefScore()
        for fold in folds:
            # Each fold's own ranker, never the shipped one (which saw every document).
            for n in per_fold[fold]["test"]:
                story = make_story(docs[n])
                story.quotes = [replace(q) for q in stories[n].quotes]
                story.docs = stories[n].docs
                story.layers.update({"quotes", "docs"})
                after_coref, final = end_to_end(story, rankers[fold], entity_model=entity_model)
                gold = docs[n].gold_person_entities()
                e2e_coref.add(gold, after_coref)
                e2e.add(gold, final if final is not None else after_coref)
                e2e_ran["attribution"] = final is not None
        metrics.update({f"e2e_{k}": round(v, 4) for k, v in e2e.as_dict().items()})
        metrics["e2e_before_attribution_avg_f1"] = round(e2e_coref.average_f1, 4)
    words = sum(len(docs[n].words) for n in {n for f in folds for n in per_fold[f]["test"]})
    details = {
        "per_fold": per_fold,
        "booknlp_avg_f1": BOOKNLP_AVG_F1,
        "documents": gold_score.documents,
        "parse_seconds": round(parse_seconds, 1),
        "resolve_seconds": round(resolve_seconds, 2),
        "resolve_words_per_second": round(words / resolve_seconds) if resolve_seconds else None,
        "seconds": round(time.perf_counter() - started, 1),
        "end_to_end_ran": e2e_ran,
        "alignment_min": round(min(d.aligned for d in docs.values()), 4),
    }
    notes = ("PER entities only; MUC, B-cubed, CEAF-e micro-averaged over the test documents of "
             f"{len(folds)} fold(s) of lrec2020_coref_tenfold. gold_*: gold PER mentions given, "
             "ficlens clusters them; e2e_*: ficlens's own mentions (mentions, characters, "
             "narration, coref, then attribution and resolve_quote_pronouns), exact-span match to "
             "gold; the literary entity model is "
             + ("used" if entity_model else "not used (it was trained on LitBank entity documents)")
             + ". "
             "The ranker is retrained per fold on its train documents (biases tuned on dev). "
             "BookNLP's published average F1 (small 0.764, big 0.790) is over all six entity "
             "types, so it is a reference point, not the same task.")
    return EvalResult("litbank-coref", metrics, details, notes)
