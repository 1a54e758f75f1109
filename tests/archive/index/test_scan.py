"""Finding files cheaply: folders listed again only when they change, quiet files
stat-ed only at a sweep, links never followed."""

from __future__ import annotations

import os
from pathlib import Path

from logbot.archive.index.scan import HOT_SECONDS, SWEEP_SECONDS, Scanner

NOW = 2_000_000_000.0  # the fake wall clock; files are dated well before it


def settle(*paths: Path, when: float = NOW - 3 * HOT_SECONDS) -> None:
    for path in paths:
        os.utime(path, (when, when), follow_symlinks=False)


class Now:
    def __init__(self) -> None:
        self.value = NOW

    def __call__(self) -> float:
        return self.value


def test_quiet_files_wait_for_a_change_of_their_folder_or_a_sweep(root: Path) -> None:
    folder = root / "net" / "#chan"
    folder.mkdir(parents=True)
    old, live = folder / "2026-01-01.jsonl", folder / "2026-01-02.jsonl"
    old.write_bytes(b"a\n")
    live.write_bytes(b"b\n")
    settle(old, live, folder, root / "net", root)
    now = Now()
    scanner = Scanner(root, now)
    first = scanner.look([])
    assert first.full and set(first.stats) == {
        "net/#chan/2026-01-01.jsonl",
        "net/#chan/2026-01-02.jsonl",
    }
    assert first.listed == {"", "net", "net/#chan"}

    with open(old, "ab") as f:  # an old file grows: nothing in its folder changes
        f.write(b"c\n")
    settle(old)
    now.value += 10
    second = scanner.look([])
    assert second.listed == set() and not second.full
    assert set(second.stats) == {"net/#chan/2026-01-02.jsonl"}  # the last: today's
    assert "net/#chan/2026-01-01.jsonl" in scanner.look(["net/#chan/2026-01-01.jsonl"]).stats

    now.value += SWEEP_SECONDS
    sweep = scanner.look([])
    assert sweep.full and sweep.stats["net/#chan/2026-01-01.jsonl"].st_size == 4


def test_a_changed_folder_is_listed_again(root: Path) -> None:
    folder = root / "net" / "#chan"
    folder.mkdir(parents=True)
    (folder / "2026-01-01.jsonl").write_bytes(b"a\n")
    settle(folder / "2026-01-01.jsonl", folder, root / "net", root)
    now = Now()
    scanner = Scanner(root, now)
    scanner.look([])
    (folder / "2026-01-02.jsonl.gz").write_bytes(b"")
    (folder / "notes.txt").write_bytes(b"")
    (folder / ".hidden.jsonl").write_bytes(b"")
    settle(folder, when=NOW - 100)  # changed, and not within the racy window
    look = scanner.look([])
    assert look.listed == {"net/#chan"}
    assert set(look.stats) == {"net/#chan/2026-01-01.jsonl", "net/#chan/2026-01-02.jsonl.gz"}
    assert scanner.names("net/#chan") == ["2026-01-01.jsonl", "2026-01-02.jsonl.gz"]
    assert scanner.has_file("net/#chan/2026-01-02.jsonl.gz")


def test_a_folder_changed_just_now_is_listed_until_its_mtime_is_settled(root: Path) -> None:
    """Two changes within one timestamp tick leave the mtime as it was."""
    folder = root / "net"
    folder.mkdir()
    settle(root)
    settle(folder, when=NOW - 0.5)
    now = Now()
    scanner = Scanner(root, now)
    scanner.look([])
    assert scanner.look([]).listed == {"net"}
    now.value += 5
    assert scanner.look([]).listed == set()


def test_gone_folders_and_links(root: Path, tmp_path: Path) -> None:
    (root / "net" / "#a").mkdir(parents=True)
    (root / "net" / "#a" / "d.jsonl").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.jsonl").write_bytes(b"")
    (root / "net" / "#link").symlink_to(elsewhere)
    (root / "net" / "x.jsonl").symlink_to(elsewhere / "secret.jsonl")
    now = Now()
    scanner = Scanner(root, now)
    assert set(scanner.look([]).stats) == {"net/#a/d.jsonl"}
    (root / "net" / "#a" / "d.jsonl").unlink()
    (root / "net" / "#a").rmdir()
    look = scanner.look([], full=True)
    assert look.gone_dirs == {"net/#a"} and look.stats == {}
    assert not scanner.has_file("net/#a/d.jsonl")
