"""Sources: folders, zip and tar archives, lists of paths; limits; names that climb out of an archive."""
from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from ficlens.corpus.sources import count_items, iter_items
from ficlens.limits import Limits

ONE = b"The kettle boiled twice before anyone noticed.\n"
TWO = b'"Is it Tuesday?" asked the parrot.\n'


def names(items, root: Path) -> list[str]:
    return [i.name.replace(str(root.absolute()) + "/", "") for i in items]


def test_folder_is_walked_recursively_in_order_skipping_clutter(tmp_path):
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a.txt").write_bytes(ONE)
    (tmp_path / "b" / "deep" / "c.html").write_bytes(b"<html><body><p>Hi.</p></body></html>")
    (tmp_path / "b" / "note.md").write_bytes(TWO)
    (tmp_path / "b" / "cover.jpg").write_bytes(b"\xff\xd8\xff")      # not a story suffix
    (tmp_path / ".hidden.txt").write_bytes(ONE)                     # hidden
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_bytes(ONE)                  # hidden folder
    items = list(iter_items([tmp_path]))
    assert names(items, tmp_path) == ["a.txt", "b/note.md", "b/deep/c.html"]  # files, then subfolders
    assert [i.data for i in items][:2] == [ONE, TWO] and items[0].error is None
    assert count_items([tmp_path]) == 3


def test_zip_members_are_streamed_with_archive_names(tmp_path):
    z = tmp_path / "fics.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("part1/one.txt", ONE)
        zf.writestr("two.txt", TWO)
        zf.writestr("__MACOSX/._two.txt", b"\x00\x05")
        zf.writestr("image.png", b"\x89PNG")
    items = list(iter_items([z]))
    assert [i.name for i in items] == [f"{z.absolute()}!part1/one.txt", f"{z.absolute()}!two.txt"]
    assert [i.data for i in items] == [ONE, TWO]
    assert count_items([z]) == 2


def test_zip_traversal_names_are_read_as_bytes_and_nothing_is_written(tmp_path):
    z = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../escaped.txt", ONE)
        zf.writestr("/etc/abs.txt", TWO)
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    items = list(iter_items([z]))
    assert [i.name for i in items] == [f"{z.absolute()}!../../escaped.txt", f"{z.absolute()}!/etc/abs.txt"]
    assert [i.data for i in items] == [ONE, TWO]
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sneaky.zip"]


def test_zip_bomb_member_is_an_error_and_the_rest_still_read(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", ONE)
        zf.writestr("bomb.txt", b"\0" * (4 << 20))  # 4 MiB of zeros, a few KB compressed
        zf.writestr("c.txt", TWO)
    assert z.stat().st_size < 50_000
    items = list(iter_items([z], Limits(max_bytes=1 << 20)))
    assert [i.data for i in items if i.error is None] == [ONE, TWO]
    (bad,) = [i for i in items if i.error]
    assert bad.name.endswith("!bomb.txt") and bad.error_type == "LimitError"
    assert "4,194,304 bytes is over the limit of 1,048,576" in bad.error


def test_zip_expanding_past_the_archive_limit_stops_with_one_error(tmp_path):
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"{i}.txt", b"a" * 1000)
    items = list(iter_items([z], Limits(max_expanded_bytes=2500)))
    assert [i.error is None for i in items] == [True, True, False]
    assert items[-1].name == str(z.absolute()) and "possible zip bomb" in items[-1].error


def test_zip_with_too_many_members_and_a_corrupt_zip_are_errors(tmp_path):
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(4):
            zf.writestr(f"{i}.txt", ONE)
    (item,) = iter_items([z], Limits(max_members=3))
    assert item.error_type == "LimitError" and "more than 3 files" in item.error
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    (item,) = iter_items([broken])
    assert item.error.startswith(f"{broken.absolute()}: not a readable archive")


def _tar(path: Path, mode: str, members: dict[str, bytes], symlink: str | None = None) -> None:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)


def test_tar_gz_members_stream_links_skipped_limits_applied(tmp_path):
    t = tmp_path / "fics.tar.gz"
    _tar(t, "w:gz", {"x/one.txt": ONE, "../up.txt": TWO, "huge.txt": b"z" * 5000}, symlink="link.txt")
    items = list(iter_items([t], Limits(max_bytes=4000)))
    got = {i.name.split("!", 1)[1]: (i.data, i.error_type) for i in items}
    assert got["x/one.txt"] == (ONE, None)
    assert got["../up.txt"] == (TWO, None)
    assert got["huge.txt"][1] == "LimitError"
    assert "link.txt" not in got
    assert count_items([t]) is None  # a compressed tar is not counted ahead (it would be read twice)


def test_plain_tar_and_tar_member_limit(tmp_path):
    t = tmp_path / "plain.tar"
    _tar(t, "w", {f"{i}.txt": ONE for i in range(3)})
    assert [i.data for i in iter_items([t])] == [ONE] * 3
    items = list(iter_items([t], Limits(max_members=2)))
    assert items[-1].error_type == "LimitError" and "more than 2 files" in items[-1].error


def test_a_file_listing_paths(tmp_path):
    (tmp_path / "stories").mkdir()
    (tmp_path / "stories" / "one.txt").write_bytes(ONE)
    other = tmp_path / "elsewhere.txt"
    other.write_bytes(TWO)
    listing = tmp_path / "todo.txt"
    listing.write_text(f"# my reading list\nstories/one.txt\n\n{other.absolute()}\n", encoding="utf-8")
    items = list(iter_items([listing]))
    assert [i.data for i in items] == [ONE, TWO]
    assert items[0].name == str((tmp_path / "stories" / "one.txt").absolute())
    assert count_items([listing]) == 2
    # A path that disappears after the list is recognised (sniffing reads the first lines only).
    listing.write_text("stories/one.txt\n" * 20 + "stories/gone.txt\n", encoding="utf-8")
    items = list(iter_items([listing]))
    assert items[-1].error_type == "InputError" and items[-1].error.endswith("gone.txt: no such file")
    # A .list suffix is a list whatever its content; a story .txt is never taken for one.
    story = tmp_path / "story.txt"
    story.write_bytes(ONE + TWO)
    assert [i.data for i in iter_items([story])] == [ONE + TWO]


def test_missing_source_and_oversized_file_become_error_items(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300)
    items = list(iter_items([tmp_path / "nope", big], Limits(max_bytes=1000)))
    assert items[0].error.endswith("nope: no such file")
    assert items[1].error_type == "LimitError" and "1,500 bytes is over the limit of 1,000" in items[1].error
