"""Where a corpus run's stories come from: folders, archives and lists of paths, streamed.

`iter_items(sources)` yields one `SourceItem` per story file, reading one at a time, so memory does
not grow with the corpus. Archives are read member by member straight from the archive (nothing is
extracted to disk), with the size limits of `Limits`; a member whose name climbs out of the archive
(`../../x.txt`) is harmless here and simply keeps its name, as `archive.zip!../../x.txt`. Whatever
cannot be read becomes an item with an `error` (a FiclensError message), so the run records it and
goes on.
"""
from __future__ import annotations

import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import Errors
from ..limits import DEFAULT_LIMITS, Limits

STORY_SUFFIXES = frozenset({".txt", ".text", ".md", ".html", ".htm", ".xhtml", ".epub"})
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)
LIST_SUFFIXES = frozenset({".list", ".lst", ".paths"})
# A .txt is taken for a list of paths when its first lines all name existing files (a story never does).
_LIST_SNIFF_LINES = 20
_LIST_SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceItem:
    """One story file to analyse, or the reason an input could not be read."""

    name: str  # a file path, or `archive.zip!inner/path.txt`
    data: bytes | None = None
    error: str | None = None
    error_type: str | None = None



def too_big(member: str, size: int, limits: Limits) -> SourceItem:
    """The error row of an archive member over the per-file size limit."""
    return SourceItem(member, error=Errors.E005.format(path=member, size=size, limit=limits.max_bytes),
                      error_type="LimitError")

def iter_items(sources: Iterable[str | os.PathLike], limits: Limits = DEFAULT_LIMITS) -> Iterator[SourceItem]:
    """Every story in `sources` (folders recursively, .zip/.tar(.gz) archives, lists of paths, files)."""
    for source in sources:
        yield from _items_of(Path(source), limits, explicit=True, allow_list=True)


def count_items(sources: Iterable[str | os.PathLike], limits: Limits = DEFAULT_LIMITS) -> int | None:
    """How many items `iter_items` will yield, when that is cheap to know (None for tar archives)."""
    total = 0
    for source in sources:
        n = _count(Path(source), limits, explicit=True, allow_list=True)
        if n is None:
            return None
        total += n
    return total


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(ZIP_SUFFIXES) or name.endswith(TAR_SUFFIXES)


def is_story_name(name: str) -> bool:
    """A file a folder or archive walk picks up: a known story suffix, not hidden, not OS clutter."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base.startswith(".") or "__MACOSX/" in name:
        return False
    return os.path.splitext(base)[1].lower() in STORY_SUFFIXES


def _absolute(path: Path) -> str:
    # Absolute names keep a rerun from another working directory from seeing new inputs.
    return str(path.absolute())


def _items_of(path: Path, limits: Limits, *, explicit: bool, allow_list: bool) -> Iterator[SourceItem]:
    name = _absolute(path)
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError) as e:  # e.g. a name too long for the filesystem
        yield SourceItem(name, error=Errors.E003.format(path=name, reason=e), error_type="InputError")
        return
    if is_dir:
        yield from _walk(path, limits)
    elif not exists:
        yield SourceItem(name, error=Errors.E001.format(path=name), error_type="InputError")
    elif is_archive(path):
        if path.name.lower().endswith(ZIP_SUFFIXES):
            yield from _zip_items(path, limits)
        else:
            yield from _tar_items(path, limits)
    elif allow_list and _is_list_file(path):
        yield from _list_items(path, limits)
    elif explicit or is_story_name(path.name):
        yield _read_file(path, limits)


def _walk(folder: Path, limits: Limits) -> Iterator[SourceItem]:
    # Sorted, so that every run (and every engine) sees the same order and forms the same batches.
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            p = Path(root) / f
            if is_archive(p):
                yield from _items_of(p, limits, explicit=False, allow_list=False)
            elif is_story_name(f):
                yield _read_file(p, limits)


def _read_file(path: Path, limits: Limits) -> SourceItem:
    name = _absolute(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            return SourceItem(name, error=Errors.E005.format(path=name, size=size, limit=limits.max_bytes),
                              error_type="LimitError")
        with path.open("rb") as f:
            data = f.read(limits.max_bytes + 1)
    except OSError as e:
        return SourceItem(name, error=Errors.E003.format(path=name, reason=e.strerror or e), error_type="InputError")
    if len(data) > limits.max_bytes:  # grew since stat
        return SourceItem(name, error=Errors.E005.format(path=name, size=len(data), limit=limits.max_bytes),
                          error_type="LimitError")
    return SourceItem(name, data=data)


def _is_list_file(path: Path) -> bool:
    if path.suffix.lower() in LIST_SUFFIXES:
        return True
    if path.suffix.lower() not in {".txt", ""}:
        return False
    try:
        with path.open("rb") as f:
            head = f.read(_LIST_SNIFF_BYTES)
    except OSError:
        return False
    lines = [ln.strip() for ln in head.decode("utf-8", "replace").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")][:_LIST_SNIFF_LINES]
    return bool(lines) and all(_exists(_resolve_listed(path, ln)) for ln in lines)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a sentence is no path: too long, or holds a NUL
        return False


def _resolve_listed(list_file: Path, line: str) -> Path:
    p = Path(line).expanduser()
    return p if p.is_absolute() else list_file.parent / p


def _list_items(list_file: Path, limits: Limits) -> Iterator[SourceItem]:
    """Each line a path (relative ones from the list's folder); blank lines and # comments skipped."""
    with list_file.open("r", encoding="utf-8", errors="replace") as f:
        for line in f:  # streamed: a list of millions of paths is never held in memory
            line = line.strip()
            if line and not line.startswith("#"):
                # A list names stories, folders or archives; a .txt in it is a story, never another list.
                yield from _items_of(_resolve_listed(list_file, line), limits, explicit=True, allow_list=False)


def _zip_items(path: Path, limits: Limits) -> Iterator[SourceItem]:
    name = _absolute(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        yield SourceItem(name, error=Errors.E201.format(path=name, reason=e), error_type="InputError")
        return
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            yield SourceItem(name, error=Errors.E202.format(path=name, limit=limits.max_members),
                             error_type="LimitError")
            return
        expanded = 0
        for info in infos:
            if info.is_dir() or not is_story_name(info.filename):
                continue
            member = f"{name}!{info.filename}"
            if info.file_size > limits.max_bytes:
                yield too_big(member, info.file_size, limits)
                continue
            if expanded + info.file_size > limits.max_expanded_bytes:
                yield SourceItem(name, error=Errors.E007.format(path=name, limit=limits.max_expanded_bytes),
                                 error_type="LimitError")
                return
            try:
                with zf.open(info) as f:
                    data = _read_capped(f, limits.max_bytes)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                    RuntimeError) as e:  # RuntimeError: encrypted member
                yield SourceItem(member, error=Errors.E201.format(path=member, reason=e), error_type="InputError")
                continue
            if data is None:  # the header lied about the size
                yield SourceItem(member, error=Errors.E007.format(path=member, limit=limits.max_bytes),
                                 error_type="LimitError")
                continue
            expanded += len(data)
            yield SourceItem(member, data=data)


def _tar_items(path: Path, limits: Limits) -> Iterator[SourceItem]:
    name = _absolute(path)
    try:
        # Stream mode ("r|*"): one pass, no seeking, one member in memory at a time.
        tf = tarfile.open(path, mode="r|*")
    except (tarfile.TarError, OSError, EOFError) as e:
        yield SourceItem(name, error=Errors.E201.format(path=name, reason=e), error_type="InputError")
        return
    members = 0
    expanded = 0
    try:
        with tf:
            for info in tf:
                members += 1
                if members > limits.max_members:
                    yield SourceItem(name, error=Errors.E202.format(path=name, limit=limits.max_members),
                                     error_type="LimitError")
                    return
                # Skipped members are still decompressed to be stepped over: count them too.
                expanded += max(info.size, 0)
                if expanded > limits.max_expanded_bytes:
                    yield SourceItem(name, error=Errors.E007.format(path=name, limit=limits.max_expanded_bytes),
                                     error_type="LimitError")
                    return
                if not info.isfile() or not is_story_name(info.name):  # links, devices, folders
                    continue
                member = f"{name}!{info.name}"
                if info.size > limits.max_bytes:
                    yield too_big(member, info.size, limits)
                    continue
                f = tf.extractfile(info)
                data = _read_capped(f, limits.max_bytes) if f is not None else b""
                yield SourceItem(member, data=data if data is not None else b"")
    except (tarfile.TarError, OSError, EOFError, ValueError) as e:
        yield SourceItem(name, error=Errors.E201.format(path=name, reason=e), error_type="InputError")


def _read_capped(f, cap: int) -> bytes | None:
    """Read at most `cap` bytes in chunks; None when there is more (a size header that lied)."""
    parts, total = [], 0
    while True:
        chunk = f.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > cap:
            return None


def _count(path: Path, limits: Limits, *, explicit: bool, allow_list: bool) -> int | None:
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError):
        return 1  # one error item
    if is_dir:
        total = 0
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for f in files:
                p = Path(root) / f
                if is_archive(p):
                    n = _count(p, limits, explicit=False, allow_list=False)
                    if n is None:
                        return None
                    total += n
                elif is_story_name(f):
                    total += 1
        return total
    if not exists:
        return 1
    if is_archive(path):
        if not path.name.lower().endswith(ZIP_SUFFIXES):
            return None
        try:
            with zipfile.ZipFile(path) as zf:
                return max(1, sum(1 for i in zf.infolist() if not i.is_dir() and is_story_name(i.filename)))
        except (zipfile.BadZipFile, OSError, ValueError):
            return 1
    if allow_list and _is_list_file(path):
        total = 0
        with path.open("r", encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    n = _count(_resolve_listed(path, line), limits, explicit=True, allow_list=False)
                    if n is None:
                        return None
                    total += n
        return total
    return 1 if explicit or is_story_name(path.name) else 0
