"""safe_open: walking below a trusted root without following a link, on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logbot.logs import safe_open
from logbot.logs.safe_open import NotRegularFile, UnsafeLink


def test_folders_are_created_and_the_file_opened(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "f.log"
    fd = safe_open.open_file(tmp_path, path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        os.write(fd, b"x\n")
        assert os.get_blocking(fd)  # O_NONBLOCK was for the open only
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x\n" and (tmp_path / "a" / "b").is_dir()


@pytest.mark.parametrize("where", ["folder", "file", "dangling"])
def test_a_link_below_the_root_is_refused(tmp_path: Path, where: str) -> None:
    root = tmp_path / "root"
    (root / "net").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.log").write_bytes(b"theirs")
    if where == "folder":
        (root / "net" / "chan").symlink_to(outside)
        link = root / "net" / "chan"
    else:
        (root / "net" / "chan").mkdir()
        link = root / "net" / "chan" / "f.log"
        link.symlink_to(outside / ("f.log" if where == "file" else "new.log"))
    with pytest.raises(UnsafeLink) as caught:
        safe_open.open_file(root, root / "net" / "chan" / "f.log", os.O_RDWR | os.O_CREAT)
    assert caught.value.filename == str(link) and "symbolic link" in str(caught.value)
    assert sorted(p.name for p in outside.iterdir()) == ["f.log"]
    assert (outside / "f.log").read_bytes() == b"theirs"


def test_the_root_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    root = tmp_path / "root"
    root.symlink_to(real)
    fd = safe_open.open_file(root, root / "n" / "f", os.O_WRONLY | os.O_CREAT)
    os.close(fd)
    assert (real / "n" / "f").is_file()


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f")
    with pytest.raises(NotRegularFile):
        safe_open.open_file(tmp_path, tmp_path / "f", os.O_RDONLY)  # would block


def test_missing_and_outside(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safe_open.open_dir(tmp_path, tmp_path / "no" / "such")
    assert not (tmp_path / "no").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        safe_open.open_dir(tmp_path, tmp_path / "file" / "x", create=True)
    with pytest.raises(ValueError):
        safe_open.open_dir(tmp_path / "a", tmp_path / "b")


def test_temporary_names_are_random_and_never_an_existing_file(tmp_path: Path) -> None:
    dir_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = set()
        for _ in range(20):
            name, fd = safe_open.create_temp(dir_fd, "s.json")
            os.close(fd)
            assert safe_open.is_temp_of(name, "s.json") and not safe_open.is_temp_of(name, "s")
            names.add(name)
        assert len(names) == 20
    finally:
        os.close(dir_fd)
    assert not safe_open.is_temp_of(".s.json.tmp", "s.json")
    assert not safe_open.is_temp_of(".s.json.0123456789ABCDEF.tmp", "s.json")
