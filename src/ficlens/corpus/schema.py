"""The store's tables, in one place: the DDL, the Arrow schemas and the documentation come from here.

Spans (`start`, `end`) are code-point offsets into the story's decoded source text, exactly as in the
per-story JSON (`ficlens analyze`), so `stories.source_text[start:end]` (or `text` when
`source_text` is NULL) gives a span back. `docs/corpus.md` is checked against this module by a test.
"""
from __future__ import annotations

# Bumped when a table changes shape; `Store` refuses a store written with another version.
STORE_VERSION = 1

# table -> [(column, DuckDB type, description)]
TABLES: dict[str, list[tuple[str, str, str]]] = {
    "stories": [
        ("id", "VARCHAR PRIMARY KEY", "content hash of the decoded source text (`Story.id`)"),
        ("source_path", "VARCHAR", "the input the story was first read from (`archive.zip!inner/path.txt` for archive members)"),
        ("source_format", "VARCHAR", "txt, html or epub"),
        ("encoding", "VARCHAR", "the encoding the bytes were decoded with"),
        ("title", "VARCHAR", "declared or inferred title"),
        ("author", "VARCHAR", "declared author"),
        ("summary", "VARCHAR", "declared summary"),
        ("rating", "VARCHAR", "AO3 rating name (from the tags layer), NULL when none"),
        ("fandoms", "VARCHAR[]", "fandom tag names"),
        ("relationships", "VARCHAR[]", "relationship tag names (`A/B` romantic, `A & B` platonic)"),
        ("warnings", "VARCHAR[]", "archive warning tag names"),
        ("category", "VARCHAR[]", "category tag names (F/F, F/M, Gen, M/M, Multi, Other)"),
        ("pov", "VARCHAR", "narrative person: first, second or third"),
        ("narrator", "VARCHAR", "character id of the narrator"),
        ("narrator_name", "VARCHAR", "that character's canonical name"),
        ("reader_insert", "BOOLEAN", "a second-person reader-insert story"),
        ("language", "VARCHAR", "language tag when the tags layer sets one"),
        ("words", "BIGINT", "words of story text, notes and headers excluded (AO3 count)"),
        ("paragraphs", "INTEGER", "body paragraphs"),
        ("quotes", "INTEGER", "quotations"),
        ("utterances", "INTEGER", "utterances (quotes split by a speech tag count once)"),
        ("dialogue_words", "BIGINT", "words inside quotations"),
        ("characters", "INTEGER", "characters found (those only mentioned included)"),
        ("layers", "VARCHAR[]", "annotation layers the pipeline produced"),
        ("ficlens_version", "VARCHAR", "ficlens version that analysed the story"),
        ("text", "VARCHAR", "the normalized story text (full-text search runs over it)"),
        ("source_text", "VARCHAR", "the decoded source text the spans point into; NULL when equal to `text`"),
        ("document", "JSON", "the full per-story JSON document (schema ficlens/1), as `ficlens analyze` writes it"),
        ("run_id", "BIGINT", "the run that wrote the row"),
        ("analyzed_at", "TIMESTAMP", "when the row was written (UTC)"),
    ],
    "inputs": [
        ("path", "VARCHAR PRIMARY KEY", "an input file or archive member"),
        ("raw_sha256", "VARCHAR", "SHA-256 of its bytes: a rerun skips inputs whose bytes are already done"),
        ("story_id", "VARCHAR", "the story it holds (several inputs may hold the same story)"),
        ("run_id", "BIGINT", "the run that read it"),
        ("analyzed_at", "TIMESTAMP", "when (UTC)"),
    ],
    "sections": [
        ("story_id", "VARCHAR", "stories.id"),
        ("idx", "INTEGER", "position in the story"),
        ("kind", "VARCHAR", "title, header, summary, author_note, disclaimer, pov_header, chapter_heading, scene_break or body"),
        ("start", "INTEGER", "span start"),
        ("end", "INTEGER", "span end"),
        ("label", "VARCHAR", "e.g. the POV name, the chapter number, the header key"),
        ("words", "INTEGER", "whitespace-separated words in the span"),
    ],
    "quotes": [
        ("story_id", "VARCHAR", "stories.id"),
        ("id", "INTEGER", "quote id within the story"),
        ("utterance", "INTEGER", "utterance id: quotes split by a speech tag share one"),
        ("start", "INTEGER", "span start"),
        ("end", "INTEGER", "span end"),
        ("text", "VARCHAR", "the quotation"),
        ("words", "INTEGER", "whitespace-separated words in it"),
        ("speaker", "VARCHAR", "character id of the speaker, NULL when unattributed"),
        ("speaker_name", "VARCHAR", "that character's canonical name"),
        ("addressees", "VARCHAR[]", "character ids spoken to"),
        ("kind", "VARCHAR", "explicit, anaphoric or implicit attribution"),
        ("confidence", "DOUBLE", "attribution confidence"),
        ("closed", "BOOLEAN", "false when the quote ran to the end of its paragraph unclosed"),
    ],
    "characters": [
        ("story_id", "VARCHAR", "stories.id"),
        ("id", "VARCHAR", "character id within the story"),
        ("name", "VARCHAR", "canonical name"),
        ("aliases", "VARCHAR[]", "other names it goes by"),
        ("gender", "VARCHAR", "gender, NULL when unknown"),
        ("canon_id", "VARCHAR", "id in the fandom pack when linked to canon"),
        ("canon", "JSON", "the canon link as the JSON gives it"),
        ("mentioned_only", "BOOLEAN", "mentioned but never on stage"),
        ("mentions", "INTEGER", "mentions (counts.mentions)"),
        ("lines", "INTEGER", "lines spoken (counts.lines)"),
        ("words", "INTEGER", "words spoken (counts.words)"),
        ("counts", "JSON", "every count the characters layer gives"),
        ("spoken_to", "JSON", "addressee character id -> lines spoken to them"),
    ],
    "mention_counts": [
        ("story_id", "VARCHAR", "stories.id"),
        ("character", "VARCHAR", "character id, NULL for mentions not linked to one"),
        ("kind", "VARCHAR", "name, nickname, nominal, pronoun, vocative or narrator"),
        ("count", "INTEGER", "mentions of that kind (a summary: the spans stay in `document`)"),
    ],
    "relations": [
        ("story_id", "VARCHAR", "stories.id"),
        ("a", "VARCHAR", "character id"),
        ("b", "VARCHAR", "character id"),
        ("a_name", "VARCHAR", "canonical name of a"),
        ("b_name", "VARCHAR", "canonical name of b"),
        ("kind", "VARCHAR", "romantic, platonic, family, antagonistic or unknown"),
        ("weight", "DOUBLE", "strength of the relation"),
        ("evidence", "INTEGER", "number of evidence spans"),
    ],
    "narration": [
        ("story_id", "VARCHAR", "stories.id"),
        ("idx", "INTEGER", "segment position"),
        ("start", "INTEGER", "span start"),
        ("end", "INTEGER", "span end"),
        ("person", "VARCHAR", "first, second or third"),
        ("narrator", "VARCHAR", "character id of the narrator"),
    ],
    "tags": [
        ("story_id", "VARCHAR", "stories.id"),
        ("type", "VARCHAR", "rating, warnings, category, fandoms, relationships, characters or freeform"),
        ("name", "VARCHAR", "the tag as written"),
        ("key", "VARCHAR", "lower-cased match key; relationship members sorted, so `A/B` = `B/A`"),
        ("confidence", "DOUBLE", "confidence (1.0 for tags the source declares)"),
        ("origin", "VARCHAR", "inferred (the tags layer) or declared (the source's own metadata)"),
        ("evidence", "JSON", "evidence spans [[start, end], ...]"),
    ],
    "errors": [
        ("path", "VARCHAR PRIMARY KEY", "the input that failed (or the archive/list that could not be read)"),
        ("raw_sha256", "VARCHAR", "SHA-256 of its bytes, NULL when they could not be read"),
        ("error_type", "VARCHAR", "InputError, LimitError, Timeout, WorkerCrash or InternalError"),
        ("message", "VARCHAR", "what went wrong, in words a user can act on"),
        ("run_id", "BIGINT", "the run that recorded it"),
        ("at", "TIMESTAMP", "when (UTC)"),
    ],
    "runs": [
        ("id", "BIGINT PRIMARY KEY", "run number"),
        ("started_at", "TIMESTAMP", "start (UTC)"),
        ("finished_at", "TIMESTAMP", "end (UTC), NULL if the run was interrupted"),
        ("engine", "VARCHAR", "local or ray"),
        ("workers", "INTEGER", "worker processes"),
        ("sources", "VARCHAR[]", "the SOURCE arguments"),
        ("stories", "BIGINT", "stories written"),
        ("skipped", "BIGINT", "inputs skipped as already done"),
        ("errors", "BIGINT", "errors recorded"),
        ("words", "BIGINT", "words analysed"),
    ],
    "store_info": [
        ("key", "VARCHAR PRIMARY KEY", "store_version, fts_signature"),
        ("value", "VARCHAR", "its value"),
    ],
}

# Tables with one set of rows per story (what a story's transaction replaces).
STORY_TABLES = ("sections", "quotes", "characters", "mention_counts", "relations", "narration", "tags")

INDEXES = (
    "CREATE INDEX IF NOT EXISTS inputs_sha ON inputs(raw_sha256)",
    "CREATE INDEX IF NOT EXISTS errors_sha ON errors(raw_sha256)",
)


def columns(table: str) -> list[str]:
    return [name for name, _, _ in TABLES[table]]


def ddl(table: str) -> str:
    cols = ", ".join(f'"{name}" {type_}' for name, type_, _ in TABLES[table])
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


def arrow_schema(table: str):
    """The Arrow schema rows are converted with before an insert (types must match the DDL)."""
    import pyarrow as pa

    def arrow_type(duck: str):
        base = duck.split()[0]
        return {
            "VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
            "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR[]": pa.list_(pa.string()),
            "TIMESTAMP": pa.timestamp("us"),
        }[base]

    return pa.schema([(name, arrow_type(t)) for name, t, _ in TABLES[table]])
