"""The STS policy file (``<data_dir>/sts.json``): written whole and renamed into place,
never through a symbolic link, bounded in entries and in duration, and a file that makes
no sense said once, treated as empty and rewritten."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from logbot.bot.sts_store import (
    MAX_STS_DURATION,
    MAX_STS_FILE_BYTES,
    MAX_STS_POLICIES,
    STS_FILE,
    StsPolicy,
    StsStore,
)

NOW = 1_790_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_policy_is_written_atomically_and_read_back(tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"  # created at the first write
    StsStore(data, clock).put("irc.example.org", 6697, 300)
    path = data / STS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(data) == [STS_FILE]  # no temporary file left
    assert json.loads(path.read_text()) == {
        "version": 1,
        "policies": {"irc.example.org": {"port": 6697, "duration": 300, "expires": NOW + 300}},
    }
    again = StsStore(data, clock)
    assert again.policy("IRC.Example.org") == StsPolicy(6697, 300, NOW + 300)
    clock.now += 300
    assert again.policy("irc.example.org") is None  # expired


def test_in_memory_only_without_a_folder(clock: Clock) -> None:
    store = StsStore(None, clock)
    assert store.put("h", 6697, 10) is None
    assert store.policy("h") == StsPolicy(6697, 10, NOW + 10)
    assert store.path is None


def test_a_duration_is_capped(tmp_path: Path, clock: Clock) -> None:
    store = StsStore(tmp_path, clock)
    store.put("h", 6697, 10**11)
    assert store.policy("h") == StsPolicy(6697, MAX_STS_DURATION, NOW + MAX_STS_DURATION)


def test_the_number_of_policies_is_bounded(tmp_path: Path, clock: Clock) -> None:
    entries = {
        f"h{i}.example": {"port": 6697, "duration": 1000 + i, "expires": NOW + 1000 + i}
        for i in range(MAX_STS_POLICIES)
    }
    (tmp_path / STS_FILE).write_text(json.dumps({"version": 1, "policies": entries}))
    store = StsStore(tmp_path, clock)
    store.put("new.example", 6697, 5000)
    kept = json.loads((tmp_path / STS_FILE).read_text())["policies"]
    assert len(kept) == MAX_STS_POLICIES
    assert "new.example" in kept and "h0.example" not in kept  # the first to expire went
    assert "h1.example" in kept


def test_a_symbolic_link_is_never_followed(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (data / STS_FILE).symlink_to(victim)
    store = StsStore(data, clock)
    assert store.policy("h") is None  # not read through the link
    assert "is a symbolic link" in caplog.text
    store.put("h", 6697, 60)
    assert victim.read_text() == "precious\n"  # the link was replaced, not written through
    assert not (data / STS_FILE).is_symlink()
    assert StsStore(data, clock).policy("h") == StsPolicy(6697, 60, NOW + 60)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b'{"version": 2, "policies": {}}',
        b'{"version": 1, "policies": []}',
        b'{"version": 1, "policies": {"h": {"port": 0, "duration": 5, "expires": 1}}}',
        b'{"version": 1, "policies": {"h": {"port": 1, "duration": true, "expires": 1}}}',
        b'{"version": 1, "policies": {"H": {"port": 1, "duration": 5, "expires": 1}}}',
        b'{"version": 1, "policies": {"h": {"port": 1, "duration": 5, "expires": NaN}}}',
        b'{"version": 1, "policies": {"h": {"port": 1, "duration": 5}}}',
        b'{"version": 1, "policies": {"h": 5}}',
        b"\xff\xfe",
        b" " * (MAX_STS_FILE_BYTES + 1),
    ],
)
def test_a_file_that_makes_no_sense_is_said_once_ignored_and_rewritten(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    (tmp_path / STS_FILE).write_bytes(content)
    caplog.set_level(logging.WARNING)
    store = StsStore(tmp_path, clock)
    assert store.policy("h") is None
    assert store.policy("other") is None
    assert caplog.text.count("makes no sense") == 1
    store.put("h", 6697, 60)
    assert StsStore(tmp_path, clock).policy("h") == StsPolicy(6697, 60, NOW + 60)


def test_a_write_that_fails_is_said_once_and_the_policy_kept_in_memory(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    store = StsStore(blocked, clock)
    store.put("h", 6697, 60)
    store.put("h", 6697, 120)
    assert caplog.text.count("cannot write the STS policies") == 1
    assert store.policy("h") == StsPolicy(6697, 120, NOW + 120)


def test_reschedule_and_removal(tmp_path: Path, clock: Clock) -> None:
    store = StsStore(tmp_path, clock)
    store.put("h", 6697, 100)
    clock.now += 40
    store.reschedule("h")
    assert store.policy("h") == StsPolicy(6697, 100, NOW + 140)
    assert store.put("h", 6697, 0) == StsPolicy(6697, 100, NOW + 140)  # the one removed
    assert store.policy("h") is None
    store.reschedule("h")  # nothing to reschedule: nothing comes back
    assert StsStore(tmp_path, clock).policy("h") is None
