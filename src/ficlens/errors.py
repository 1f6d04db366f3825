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
    E101 = "stage {stage!r} requires layer {layer!r}, which no earlier stage assigns"
    E102 = "unknown stage {stage!r}; stages are: {names}"
