"""One error family with messages a user can act on (the CLI maps them to exit code 2)."""
from __future__ import annotations


class FiclensError(Exception):
    """Base of every error ficlens raises on purpose."""


class InputError(FiclensError):
    """The input cannot be read as a story: missing, unreadable, binary, corrupt or too large."""


class LimitError(InputError):
    """The input exceeds a configured limit (size, expanded size, time)."""


class PipelineError(FiclensError):
    """The pipeline was composed wrongly (a stage needs a layer nothing before it assigns)."""


class Errors:
    """The message catalogue, so wording lives in one place."""

    E001 = "{path}: no such file"
    E002 = "{path}: is a directory, not a story file (use `ficlens corpus run` for folders)"
    E003 = "{path}: cannot be read ({reason})"
    E004 = "{path}: looks like binary data, not text"
    E005 = "{path}: {size:,} bytes is over the limit of {limit:,} (raise it with --max-bytes)"
    E006 = "{path}: not a valid EPUB ({reason})"
    E007 = "{path}: expands past the limit of {limit:,} bytes (possible zip bomb)"
    E008 = "{path}: unsupported format {suffix!r}; ficlens reads .txt, .html/.htm, .epub"
    E009 = "{path}: the text could not be decoded in any common encoding"
    E010 = "{path}: holds no story text"
    E011 = "{path}: analysis took longer than the limit of {seconds} s"
    E012 = "{path}: holds {count:,} files, over the limit of {limit:,} (possible zip bomb)"
    E013 = "{path}: cannot write the output ({reason})"
    E101 = "stage {stage!r} requires layer {layer!r}, which no earlier stage assigns"
    E102 = "unknown stage {stage!r}; stages are: {names}"
    E103 = "stage {stage!r}: {option} must be one of {choices}, not {value!r}"
    E301 = "{path}: the literary entity model is missing (reinstall ficlens, or train it: training/train_ner.py all)"
    E302 = "{path}: cannot load the speaker ranker ({reason}); reinstall ficlens or train it: training/train_speaker_ranker.py"
    E303 = "{path}: cannot load the coreference ranker ({reason}); reinstall ficlens or train it: training/train_coref.py"
    E304 = "{path}: LitBank coreference data not found (expected litbank/coref/conll, coref/tsv and splits/lrec2020_coref_tenfold)"
    # corpus runs, the store and its queries (ficlens.corpus)
    E201 = "{path}: not a readable archive ({reason})"
    E202 = "{path}: holds more than {limit:,} files (the archive member limit)"
    E203 = "{path}: the worker analysing it stopped unexpectedly (exit code {code})"
    E204 = "{path}: internal error ({kind}: {reason})"
    E205 = "{path}: no such store (create one with `ficlens corpus run SOURCE --store {path}`)"
    E206 = "{path}: written by another ficlens (store version {found}; this one reads version {expected})"
    E207 = "{path}: cannot open the store ({reason})"
    E214 = "{path}: the store is in use by another process ({reason}); stop it (a run, `ficlens serve`) or use another store"
    E208 = "bad --words range {value!r}: use MIN..MAX, MIN.. or ..MAX (e.g. 1000..5000 or 1k..5k)"
    E209 = "SQL error: {reason}"
    E210 = "unknown {field} {value!r}; use one of: {names}"
    E211 = "the ray engine needs Ray: pip install 'ficlens[ray]' (ray[data]==2.60.0)"
    E212 = "the worker processes could not start: {reason}"
    E213 = "{path}: not a story file, folder, archive or list of paths"
    # the web app (ficlens serve)
    E401 = "{name}: uploads take .txt, .html/.htm or .epub files"
    E402 = "{name}: {size:,} bytes is over the upload limit of {limit:,} bytes"
    E403 = "no story with id {id!r}"
    E404 = "the upload holds no file (send it as the multipart field 'file')"
    E405 = "bad {field} {value!r}: {reason}"
