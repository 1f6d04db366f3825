"""BookNLP-style tab-separated files: .tokens, .quotes and .characters.

Column names follow BookNLP's where a column means the same thing; offsets are code-point offsets
into the decoded source text (BookNLP's `byte_onset`/`byte_offset` are character offsets too).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..model import Story

TOKEN_COLUMNS = ["paragraph_ID", "sentence_ID", "token_ID_within_sentence", "token_ID_within_document",
                 "word", "lemma", "byte_onset", "byte_offset", "POS_tag", "fine_POS_tag",
                 "dependency_relation", "syntactic_head_ID", "event"]
QUOTE_COLUMNS = ["quote_ID", "quote_start", "quote_end", "utterance_ID", "char_id", "speaker_name",
                 "addressee_ids", "kind", "confidence", "quote"]
CHARACTER_COLUMNS = ["char_id", "name", "aliases", "gender", "canon", "mentioned_only", "mentions",
                     "lines", "words_spoken", "spoken_to"]


def _writer(buf: io.StringIO) -> "csv._writer":
    return csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def tokens_tsv(story: Story) -> str:
    buf = io.StringIO()
    out = _writer(buf)
    out.writerow(TOKEN_COLUMNS)
    to_src = story.offsets.to_source
    doc_index = 0
    sentence_id = 0
    for para_id, ((p_start, _), doc) in enumerate(zip(story.paragraphs, story.docs)):
        for sent in doc.sents:
            for tok in sent:
                start = p_start + tok.idx
                out.writerow([para_id, sentence_id, tok.i - sent.start, doc_index + tok.i, tok.text,
                              tok.lemma_, to_src(start), to_src(start + len(tok.text)), tok.pos_,
                              tok.tag_, tok.dep_, doc_index + tok.head.i, "O"])
            sentence_id += 1
        doc_index += len(doc)
    return buf.getvalue()


def quotes_tsv(story: Story) -> str:
    names = {c.id: c.name for c in story.characters}
    buf = io.StringIO()
    out = _writer(buf)
    out.writerow(QUOTE_COLUMNS)
    for q in story.quotes:
        s, e = story.offsets.span_to_source(q.start, q.end)
        out.writerow([q.id, s, e, q.utterance, q.speaker or "", names.get(q.speaker, ""),
                      ",".join(q.addressees), q.kind or "",
                      "" if q.confidence is None else f"{q.confidence:.3f}",
                      story.text[q.start:q.end].replace("\n", " ")])
    return buf.getvalue()


def characters_tsv(story: Story) -> str:
    buf = io.StringIO()
    out = _writer(buf)
    out.writerow(CHARACTER_COLUMNS)
    for c in story.characters:
        spoken_to = ",".join(f"{other}:{n}" for other, n in sorted(c.spoken_to.items()))
        out.writerow([c.id, c.name, "|".join(c.aliases), c.gender or "",
                      (c.canon or {}).get("name", ""), int(c.mentioned_only), c.counts.get("mentions", 0),
                      c.counts.get("lines", 0), c.counts.get("words", 0), spoken_to])
    return buf.getvalue()


def write_tsv(story: Story, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, render in ((".tokens", tokens_tsv), (".quotes", quotes_tsv), (".characters", characters_tsv)):
        path = out_dir / f"{stem}{suffix}"
        path.write_text(render(story), encoding="utf-8")
        written.append(path)
    return written
