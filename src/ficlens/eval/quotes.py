"""Speaker and addressee attribution against PDNC and LitBank (`pdnc-quotes`, `litbank-quotes`).

End to end: ficlens reads each novel itself (its own quote spans, mentions, characters and
narrator), and its characters are mapped to the gold characters by their names and aliases
(`map_characters`). A gold quotation counts as right when the ficlens quote that covers most of it
has a speaker that maps to the gold speaker; a gold quotation no ficlens quote covers, or one whose
speaker is a ficlens character that maps to no gold character, counts as wrong.

PDNC is scored leave-novels-out: the 20 novels fall into `folds` folds (sorted by name, novel i in
fold i % folds); the ranker that scores a fold is trained on the other folds' novels only, so no
novel is scored by a model that saw it. The rule sieve needs no training and is scored on all.
"""
from __future__ import annotations

import bisect
import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FiclensError
from ..model import Character, Source, Story
from . import EvalResult, register

TYPES = ("Explicit", "Anaphoric", "Implicit")


# ---------------------------------------------------------------------------------------------------
# Running ficlens up to the attribution stage
def stages_before_attribution(characters: str = "ficlens") -> list:
    """The default pipeline's stages that come before attribution (and none after).

    characters: "ficlens" runs ficlens' own mentions and characters stages; "gold" leaves them out
        (the caller sets `story.characters` from the gold data before the narration stage).
    """
    from ..stages import default_stages

    stages = []
    for st in default_stages():
        if st.name == "attribution":
            break
        if characters == "gold" and st.name in ("mentions", "characters", "coref"):
            continue
        stages.append(st)
    names = {st.name for st in stages}
    if characters == "ficlens" and "characters" not in names:
        raise FiclensError("the characters stage is not in the pipeline yet: use characters='gold'")
    if "narration" not in names:
        from ..stages.narration import NarrationStage

        stages.append(NarrationStage())
    return stages


def analyse(text: str, path: str, *, characters: str = "ficlens",
            gold_characters: list[Character] | None = None, cache_dir: Path | None = None,
            cache_key: str = "") -> Story:
    """Read `text` and run every stage before attribution; parsed Docs are cached in `cache_dir`."""
    from ..read import story_from_text

    story = story_from_text(text, Source(path=path, format="txt"))
    for st in stages_before_attribution(characters):
        if characters == "gold" and st.name == "narration":
            story.characters = [Character(id=c.id, name=c.name, aliases=list(c.aliases), gender=c.gender)
                                for c in gold_characters or []]
            story.layers.update(("mentions", "characters"))
        if st.name == "nlp" and cache_dir is not None:
            _cached_docs(story, st, Path(cache_dir), cache_key)
        else:
            st(story)
        story.layers.update(st.assigns)
    return story


def _cached_docs(story: Story, stage, cache_dir: Path, key: str) -> None:
    from spacy.tokens import DocBin

    from ..nlp import load_nlp

    h = hashlib.sha256("\x00".join(story.text[s:e] for s, e in story.paragraphs).encode()).hexdigest()[:16]
    path = cache_dir / f"{key or 'story'}-{h}.docbin"
    if path.is_file():
        nlp = load_nlp(getattr(stage, "disable", ()))
        story.docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        if len(story.docs) == len(story.paragraphs):
            return
    stage(story)
    cache_dir.mkdir(parents=True, exist_ok=True)
    db = DocBin(store_user_data=False)
    for d in story.docs:
        db.add(d)
    db.to_disk(path)


# ---------------------------------------------------------------------------------------------------
# Characters: ficlens -> gold, by names and aliases
def _norm(form: str) -> str:
    return " ".join(form.replace("\u2019", "'").split()).lower()


def map_characters(predicted: list[Character], gold: list[tuple[str, set[str]]],
                   rank: dict[str, int] | None = None) -> dict[str, str]:
    """Ficlens character id -> gold key, for characters whose names and aliases match a gold one's.

    gold: (key, forms) per gold character. The gold character sharing the most exact forms wins (a
    form only it has counts double); ties go to the gold character with the better `rank` (lower is
    better: PDNC's major < intermediate < minor), then to the one whose forms hold the ficlens
    character's own name. Without an exact form in common, a ficlens name that is a whole word of
    exactly one gold character's forms ("Knightley" in "Mr. Knightley") maps there.
    """
    rank = rank or {}
    exact: dict[str, set[str]] = defaultdict(set)
    words: dict[str, set[str]] = defaultdict(set)
    for key, forms in gold:
        for f in forms:
            n = _norm(f)
            if not n:
                continue
            exact[n].add(key)
            for w in n.split():
                if len(w) > 2 and not w.endswith("."):
                    words[w].add(key)
    out: dict[str, str] = {}
    for c in predicted:
        forms = sorted({_norm(f) for f in (c.name, *c.aliases) if f and _norm(f)})
        votes: Counter = Counter()
        for f in forms:
            owners = exact.get(f, ())
            for key in owners:
                votes[key] += 2 if len(owners) == 1 else 1
        if not votes:
            for f in forms:
                owners = words.get(f, set())
                if len(owners) == 1:
                    votes[next(iter(owners))] += 1
        if votes:
            own = exact.get(_norm(c.name), set())
            best = max(sorted(votes), key=lambda k: (votes[k], -rank.get(k, 9), k in own))
            out[c.id] = best
    return out


# ---------------------------------------------------------------------------------------------------
# PDNC
@dataclass
class NovelRun:
    """One PDNC novel read by ficlens, with the gold attached to its utterances."""

    name: str
    story: Story
    ctx: object
    utts: list
    to_gold: dict[str, str]  # ficlens character id -> gold character id
    gold_of_utt: list[str | None]  # gold speaker id per utterance (None: no gold quotation)
    matches: list[tuple[object, int | None]]  # (PdncQuote, utterance index or None)
    gold_ids: dict[str, str] = field(default_factory=dict)  # gold speaker string -> gold id
    seconds: float = 0.0


def gold_id_of(novel) -> dict[str, str]:
    """Gold speaker strings (main names, else aliases) -> gold character id."""
    by_main = {c.name.strip(): c.id for c in novel.characters}
    out = dict(by_main)
    for c in novel.characters:
        for a in c.aliases:
            out.setdefault(a.strip(), c.id)
    return out


def prepare_novel(novel, *, characters: str = "ficlens", cache_dir: Path | None = None,
                  story: Story | None = None) -> NovelRun:
    """Read a PDNC novel with ficlens (or take `story`, already read) and attach the gold."""
    from ..stages.attribution import WINDOW, Context, read_utterances

    gold_chars = [Character(id=c.id, name=c.name.strip(), aliases=sorted(a.strip() for a in c.aliases),
                            gender=c.gender) for c in novel.characters]
    if story is None:
        story = analyse(novel.text, str(novel.path / "novel_text.txt"), characters=characters,
                        gold_characters=gold_chars, cache_dir=cache_dir, cache_key=novel.name)
    t0 = time.perf_counter()
    ctx = Context(story, window=WINDOW)
    utts = read_utterances(ctx)
    seconds = time.perf_counter() - t0
    gold = [(c.id, {c.name, *c.aliases}) for c in gold_chars]
    rank = {c.id: {"major": 0, "intermediate": 1, "minor": 2}.get(c.category, 3) for c in novel.characters}
    to_gold = map_characters(story.characters, gold, rank)
    ids = gold_id_of(novel)
    matches = align(novel, story, utts)
    votes: dict[int, Counter] = defaultdict(Counter)
    for gq, ui in matches:
        if ui is not None and gq.speaker.strip() in ids:
            votes[ui][ids[gq.speaker.strip()]] += 1
    gold_of_utt = [votes[i].most_common(1)[0][0] if votes.get(i) else None for i in range(len(utts))]
    return NovelRun(novel.name, story, ctx, utts, to_gold, gold_of_utt, matches, ids, seconds)


def best_overlap(spans: list[tuple[int, int, int]], starts: list[int], gs: int, ge: int) -> tuple[int | None, int]:
    """The utterance index of the predicted span (sorted by start; `starts` are the starts) that
    overlaps [gs, ge) most, and that overlap; only spans starting near the gold span are looked at."""
    best, best_ov = None, 0
    k = bisect.bisect_right(starts, ge) - 1
    while k >= 0 and k >= bisect.bisect_right(starts, gs) - 3:
        s, e, ui = spans[k]
        ov = min(e, ge) - max(s, gs)
        if ov > best_ov:
            best, best_ov = ui, ov
        k -= 1
    return best, best_ov


def align(novel, story: Story, utts: list) -> list[tuple[object, int | None]]:
    """Each gold quotation with the utterance of the ficlens quote covering most of its first part."""
    to_src = story.offsets.to_source
    spans = []  # (source start, source end, utterance index)
    for u in utts:
        for q in u.quotes:
            spans.append((to_src(q.start), to_src(q.end), u.index))
    spans.sort()
    starts = [s for s, _, _ in spans]
    out = []
    for gq in novel.quotes:
        best, best_ov = None, 0
        for gs, ge in gq.spans[:1] or [(0, 0)]:
            best, best_ov = best_overlap(spans, starts, gs, ge)
        if best is not None and best_ov >= 0.5 * max(1, min(ge - gs, 40)):
            out.append((gq, best))
        else:
            out.append((gq, None))
    return out


def score_run(run: NovelRun, decisions) -> dict[str, int]:
    """Counts: per type total and right, plus addressee total and right."""
    c: Counter = Counter()
    speaker_of = {d.utterance.index: d.speaker for d in decisions}
    addressees_of = {d.utterance.index: d.addressees for d in decisions}
    ids = run.gold_ids
    for gq, ui in run.matches:
        t = gq.quote_type if gq.quote_type in TYPES else "Other"
        c[f"{t}_total"] += 1
        c["total"] += 1
        gold = ids.get(gq.speaker.strip())
        if ui is not None:
            c["matched"] += 1
            pred = speaker_of.get(ui)
            if pred is not None and run.to_gold.get(pred) == gold:
                c[f"{t}_right"] += 1
                c["right"] += 1
        gold_addr = {ids.get(a.strip()) for a in gq.addressees} - {None}
        if gold_addr:
            c["addressee_total"] += 1
            pred_addr = addressees_of.get(ui, []) if ui is not None else []
            if pred_addr and run.to_gold.get(pred_addr[0]) in gold_addr:
                c["addressee_right"] += 1
    return c


def figures(c: Counter) -> dict[str, float]:
    def r(a, b):
        return round(c[a] / c[b], 4) if c[b] else 0.0

    out = {"accuracy": r("right", "total")}
    for t in TYPES:
        out[t.lower()] = r(f"{t}_right", f"{t}_total")
    out["addressee_accuracy"] = r("addressee_right", "addressee_total")
    out["quotes_matched"] = r("matched", "total")
    out["gold_quotes"] = float(c["total"])
    return out


# ---------------------------------------------------------------------------------------------------
# Training rows (used here for the folds, and by training/train_speaker_ranker.py)
def training_rows(run: NovelRun, ranker=None, *, teacher_forcing: bool = True, passes: int = 1,
                  following: list[str | None] | None = None):
    """(feature rows, labels) for every utterance with a gold speaker among its candidates.

    teacher_forcing: turn features read the gold speakers of earlier lines; otherwise the decisions
        of `ranker` (the rule sieve when None), as at run time.
    passes: rows come from this pass of `ranker` (the earlier passes decide `following`).
    following: with teacher forcing, the first pass's speakers that the second pass reads.
    """
    from ..stages.attribution import decode

    gold_pred_ids: list[str | None] = []
    for g in run.gold_of_utt:
        owners = [cid for cid, gid in run.to_gold.items() if gid == g] if g is not None else []
        gold_pred_ids.append(owners[0] if owners else None)
    rows_out: list = []
    if teacher_forcing:
        decode(run.ctx, run.utts, None, gold=gold_pred_ids, rows_out=rows_out, following=following)
    else:
        decode(run.ctx, run.utts, ranker, rows_out=rows_out, passes=passes)
    X, y = [], []
    for ui, cands, rows in rows_out:
        g = run.gold_of_utt[ui]
        if g is None or not cands:
            continue
        labels = [int(run.to_gold.get(c) == g) for c in cands]
        if not any(labels):
            continue
        X.extend(rows)
        y.extend(labels)
    return X, y


def _dense(rows: list[dict[int, float]]):
    from scipy.sparse import csr_matrix

    from ..stages.attribution import FEATURES

    data, indices, indptr = [], [], [0]
    for row in rows:
        for k in sorted(row):
            indices.append(k)
            data.append(row[k])
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(FEATURES)))


def _fit(X, y, C: float):
    from sklearn.linear_model import LogisticRegression

    from ..stages.attribution import FEATURES

    model = LogisticRegression(C=C, max_iter=3000)
    model.fit(_dense(X), y)
    return dict(zip(FEATURES, (round(float(w), 5) for w in model.coef_[0]))), round(float(model.intercept_[0]), 5)


def fit_ranker(runs: list[NovelRun], *, passes: int = 2, C: float = 1.0):
    """A LinearRanker trained on `runs`.

    Each pass is fitted twice: first on gold history (teacher forcing), then on the rows its own
    decisions produce, as at run time. The second pass reads the first pass's decisions for the
    following lines.
    """
    from ..stages.attribution import LinearRanker, decode

    fitted: list = []
    n_rows = 0
    for k in range(passes):
        following = None
        X, y = [], []
        for run in runs:
            if k > 0:
                following = [d.speaker for d in decode(run.ctx, run.utts, LinearRanker(fitted))]
            xs, ys = training_rows(run, teacher_forcing=True, following=following)
            X.extend(xs)
            y.extend(ys)
        first = _fit(X, y, C)
        X, y = [], []
        for run in runs:
            xs, ys = training_rows(run, LinearRanker(fitted + [first]), teacher_forcing=False, passes=k + 1)
            X.extend(xs)
            y.extend(ys)
        fitted.append(_fit(X, y, C))
        n_rows += len(X)
    return LinearRanker(fitted, {"trained_on": sorted(run.name for run in runs), "rows": n_rows, "C": C})


def folds_of(names: list[str], folds: int) -> list[list[str]]:
    names = sorted(names)
    return [names[k::folds] for k in range(folds)]


@register("pdnc-quotes")
def eval_pdnc_quotes(data_dir: Path, *, novels: list[str] | None = None, folds: int = 5,
                     characters: str = "ficlens", cache_dir: Path | None = None,
                     runs: list[NovelRun] | None = None, **options) -> EvalResult:
    """Speaker accuracy per PDNC quote type and addressee accuracy, rule sieve vs learned ranker."""
    from ..stages.attribution import BEAM, decode
    from .pdnc import load_novels

    if runs is None:
        runs = [prepare_novel(n, characters=characters, cache_dir=cache_dir)
                for n in load_novels(data_dir, novels)]
    by_name = {r.name: r for r in runs}
    totals = {"rules": Counter(), "learned": Counter()}
    per_novel: dict[str, dict] = {}
    seconds = 0.0
    words = 0
    for fold in folds_of(list(by_name), folds):
        train = [by_name[n] for n in by_name if n not in fold]
        ranker = fit_ranker(train) if train else None
        for name in fold:
            run = by_name[name]
            t0 = time.perf_counter()
            learned = decode(run.ctx, run.utts, ranker, beam=BEAM) if ranker else None
            seconds += time.perf_counter() - t0 + run.seconds
            words += len(run.story.text.split())
            rules = decode(run.ctx, run.utts, None)
            per_novel[name] = {}
            for key, decisions in (("rules", rules), ("learned", learned)):
                if decisions is None:
                    continue
                c = score_run(run, decisions)
                totals[key].update(c)
                per_novel[name][key] = figures(c)
    metrics: dict[str, float] = {}
    for key in ("learned", "rules"):
        for k, v in figures(totals[key]).items():
            metrics[f"{key}_{k}"] = v
    metrics["attribution_words_per_second"] = round(words / seconds) if seconds else 0.0
    notes = (f"End to end ({characters} characters mapped to PDNC's by names and aliases; ficlens' own "
             f"quote spans). A gold quotation is right when the ficlens quote covering it has a speaker "
             f"that maps to the gold speaker; unmatched quotations count as wrong. learned_*: "
             f"leave-novels-out, {folds} folds, each fold scored by a ranker trained on the other folds. "
             f"rules_*: the rule sieve. addressee_accuracy: the first predicted addressee is among the "
             f"gold addressees, over gold quotations that have addressees.")
    return EvalResult(name="pdnc-quotes", metrics=metrics, details={"novels": per_novel}, notes=notes)


# ---------------------------------------------------------------------------------------------------
# LitBank
@dataclass
class LitbankBook:
    name: str  # e.g. "1342_pride_and_prejudice"
    text: str  # the excerpt's paragraphs, cut from `original/`
    quotes: list[tuple[int, int, str]]  # (start, end, speaker entity) in `text`
    mentions: list[tuple[int, int, str, str]]  # (start, end, entity, PROP|NOM|PRON) in `text`


def _litbank_sentences(path: Path) -> list[list[str]]:
    return [line.split(" ") for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def _align(original: str, sentences: list[list[str]]) -> tuple[list[list[tuple[int, int] | None]], int, int]:
    """Character spans in `original` of LitBank's tokens (None when a token cannot be found)."""
    import re

    flat = [t for sent in sentences for t in sent if t]
    head = r"\s*".join(re.escape(t) for t in flat[:8])
    m = re.search(head, original)
    pos = m.start() if m else 0
    out: list[list[tuple[int, int] | None]] = []
    first = last = None
    for sent in sentences:
        spans: list[tuple[int, int] | None] = []
        for t in sent:
            j = original.find(t, pos, pos + 120) if t else -1
            if j < 0:
                spans.append(None)
                continue
            spans.append((j, j + len(t)))
            pos = j + len(t)
            first = j if first is None else first
            last = pos
        out.append(spans)
    return out, first or 0, last or 0


def load_litbank_books(data_dir: Path) -> list[LitbankBook]:
    """LitBank's quotation excerpts with their speakers (coref entity ids) and person mentions."""
    root = Path(data_dir)
    root = root / "litbank" if (root / "litbank").is_dir() else root
    qdir = root / "quotations" / "tsv"
    if not qdir.is_dir():
        raise FiclensError(f"{data_dir}: no LitBank quotations (expected litbank/quotations/tsv)")
    books = []
    for ann in sorted(qdir.glob("*_brat.ann")):
        name = ann.name[: -len("_brat.ann")]
        original_path = root / "original" / f"{name}.txt"
        if not original_path.is_file():
            continue
        original = original_path.read_text(encoding="utf-8")
        spans, first, last = _align(original, _litbank_sentences(ann.with_suffix(".txt")))
        # Whole paragraphs around the excerpt, so ficlens sees the layout it expects.
        start = original.rfind("\n\n", 0, first)
        start = 0 if start < 0 else start + 2
        end = original.find("\n\n", last)
        end = len(original) if end < 0 else end

        def char_span(s_sent, s_tok, e_sent, e_tok):
            try:
                a, b = spans[s_sent][s_tok], spans[e_sent][e_tok]
            except IndexError:
                return None
            if a is None or b is None:
                return None
            return a[0] - start, b[1] - start

        quote_spans: dict[str, tuple[int, int]] = {}
        speakers: dict[str, str] = {}
        for line in ann.read_text(encoding="utf-8").splitlines():
            f = line.split("\t")
            if f[0] == "QUOTE" and len(f) >= 6:
                sp = char_span(int(f[2]), int(f[3]), int(f[4]), int(f[5]))
                if sp:
                    quote_spans[f[1]] = sp
            elif f[0] == "ATTRIB" and len(f) >= 3:
                speakers[f[1]] = f[2]
        mentions = []
        coref = root / "coref" / "tsv" / ann.name
        if coref.is_file():
            ment: dict[str, tuple] = {}
            entity: dict[str, str] = {}
            for line in coref.read_text(encoding="utf-8").splitlines():
                f = line.split("\t")
                if f[0] == "MENTION" and len(f) >= 9 and f[7] == "PER":
                    sp = char_span(int(f[2]), int(f[3]), int(f[4]), int(f[5]))
                    if sp:
                        ment[f[1]] = (sp, f[8])
                elif f[0] == "COREF" and len(f) >= 3:
                    entity[f[1]] = f[2]
            mentions = [(sp[0], sp[1], entity[t], kind) for t, (sp, kind) in ment.items() if t in entity]
        quotes = [(s, e, speakers[q]) for q, (s, e) in quote_spans.items() if q in speakers]
        books.append(LitbankBook(name, original[start:end], sorted(quotes), sorted(mentions)))
    return books


def map_by_mentions(story: Story, gold_mentions: list[tuple[int, int, str, str]]) -> dict[str, str]:
    """Ficlens character -> gold entity: the entity whose gold mentions its own mentions overlap
    most, in source offsets (a proper-name gold mention counts double; the narrator's "I" and
    resolved pronouns count too, so a first-person narrator maps)."""
    to_src = story.offsets.to_source
    starts = [m[0] for m in gold_mentions]
    votes: dict[str, Counter] = defaultdict(Counter)
    for m in story.mentions:
        if not m.character or m.kind not in ("name", "nickname", "vocative", "nominal", "narrator", "pronoun"):
            continue
        s, e = to_src(m.start), to_src(m.end)
        k = bisect.bisect_right(starts, e) - 1
        while k >= 0 and k >= bisect.bisect_right(starts, s) - 6:
            gs, ge, ent, kind = gold_mentions[k]
            if min(e, ge) - max(s, gs) > 0:
                votes[m.character][ent] += 2 if kind == "PROP" else 1
            k -= 1
    return {c: v.most_common(1)[0][0] for c, v in votes.items()}


def _title_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalpha())


@register("litbank-quotes")
def eval_litbank_quotes(data_dir: Path, *, books: list[str] | None = None, **options) -> EvalResult:
    """Speaker accuracy on LitBank's quotations, end to end: the shipped ranker and the rule sieve.

    The learned figures leave out the excerpts of novels that are also in PDNC (the shipped ranker
    was trained on all 20 PDNC novels); the sieve is scored on every excerpt.
    """
    from ..read import story_from_text
    from ..stages.attribution import BEAM, WINDOW, Context, decode, default_ranker, read_utterances
    from .pdnc import load_novels

    try:
        seen = {_title_key(n.name) for n in load_novels(Path(data_dir))}
    except FiclensError:
        seen = set()
    ranker = default_ranker()
    totals = {"rules": Counter(), "learned": Counter()}
    left_out = []
    for book in load_litbank_books(data_dir):
        if books and book.name not in books:
            continue
        story = story_from_text(book.text, Source(path=book.name, format="txt"))
        for st in stages_before_attribution("ficlens"):
            st(story)
            story.layers.update(st.assigns)
        ctx = Context(story, window=WINDOW)
        utts = read_utterances(ctx)
        to_gold = map_by_mentions(story, book.mentions)
        to_src = story.offsets.to_source
        spans = sorted((to_src(q.start), to_src(q.end), u.index) for u in utts for q in u.quotes)
        starts = [s for s, _, _ in spans]
        title_seen = any(key and _title_key(book.name).startswith(key) for key in seen)
        if title_seen:
            left_out.append(book.name)
        for key in ("rules", "learned"):
            if key == "learned" and (ranker is None or title_seen):
                continue
            decisions = decode(ctx, utts, ranker if key == "learned" else None, beam=BEAM)
            speaker = {d.utterance.index: d.speaker for d in decisions}
            c = totals[key]
            for gs, ge, ent in book.quotes:
                c["total"] += 1
                best, _ = best_overlap(spans, starts, gs, ge)
                if best is None:
                    continue
                c["matched"] += 1
                pred = speaker.get(best)
                if pred is not None and to_gold.get(pred) == ent:
                    c["right"] += 1
    metrics = {}
    for key in ("learned", "rules"):
        c = totals[key]
        metrics[f"{key}_accuracy"] = round(c["right"] / c["total"], 4) if c["total"] else 0.0
        metrics[f"{key}_quotes_matched"] = round(c["matched"] / c["total"], 4) if c["total"] else 0.0
        metrics[f"{key}_gold_quotes"] = float(c["total"])
    notes = ("End to end on LitBank's quotation excerpts (cut from original/ at paragraph bounds): a gold "
             "quotation is right when the ficlens quote covering it has a speaker whose mentions overlap "
             "mostly the gold speaker's coref mentions. learned_*: the shipped ranker, leaving out the "
             f"{len(left_out)} excerpts of novels it was trained on (PDNC); rules_*: the rule sieve, all "
             "excerpts.")
    return EvalResult(name="litbank-quotes", metrics=metrics, details={"left_out": left_out}, notes=notes)
