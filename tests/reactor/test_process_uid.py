"""``spawnProcess(..., uid=, gid=)``: a child running as another user, on every backend.

Switching users needs root.  This machine's tests run as root, and then the child
really becomes ``nobody``: it reads its identity from ``/proc/self/status`` with
``cat`` (a program ``nobody`` may run).  Without root these tests skip, saying why:
there is no way to switch users to test.  The error path (not allowed to switch)
is tested by dropping our own effective uid for the length of one spawn.
"""

from __future__ import annotations

import os
import pwd
import re
from typing import Any

import pytest

from logbot.reactor import error
from logbot.reactor.defer import Deferred
from logbot.reactor.protocol import ProcessProtocol

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")


class Output(ProcessProtocol):
    def __init__(self) -> None:
        self.out = b""
        self.ended: Deferred[Any] = Deferred()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.out += data

    def processEnded(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(self)


def nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def identity(status: bytes) -> dict[str, list[int]]:
    """Uid (real, effective, saved, fs), Gid (the same four) and Groups, from
    ``/proc/<pid>/status``."""
    found = {}
    for key in ("Uid", "Gid", "Groups"):
        match = re.search(rb"^" + key.encode() + rb":[ \t]*(.*)$", status, re.M)
        assert match, status
        found[key] = [int(n) for n in match.group(1).split()]
    return found


def run_as(reactor: Any, run_until: Any, *argv: str, **kw: Any) -> Output:
    pp = Output()
    reactor.spawnProcess(pp, argv[0], list(argv), {}, **kw)
    run_until(pp.ended)
    return pp


@needs_root
def test_the_child_runs_as_nobody(reactor: Any, run_until: Any) -> None:
    uid, gid = nobody()
    pp = run_as(reactor, run_until, "cat", "/proc/self/status", uid=uid, gid=gid)
    assert pp.reason.check(error.ProcessDone)
    ids = identity(pp.out)
    assert ids["Uid"] == [uid] * 4
    assert ids["Gid"] == [gid] * 4
    assert ids["Groups"] == []  # root's supplementary groups were dropped
    assert os.geteuid() == 0  # the parent is untouched


@needs_root
def test_gid_alone_changes_the_group_only(reactor: Any, run_until: Any) -> None:
    _, gid = nobody()
    pp = run_as(reactor, run_until, "cat", "/proc/self/status", gid=gid)
    ids = identity(pp.out)
    assert ids["Uid"] == [0] * 4
    assert ids["Gid"] == [gid] * 4
    assert ids["Groups"] == []


@needs_root
def test_uid_alone_keeps_the_group_and_drops_the_others(reactor: Any, run_until: Any) -> None:
    uid, _ = nobody()
    pp = run_as(reactor, run_until, "cat", "/proc/self/status", uid=uid)
    ids = identity(pp.out)
    assert ids["Uid"] == [uid] * 4
    assert ids["Gid"] == [os.getgid()] * 4
    assert ids["Groups"] == []


@needs_root
def test_as_nobody_on_a_terminal_with_a_working_directory(
    reactor: Any, run_until: Any, tmp_path: Any
) -> None:
    """The switches combine: fork path (``path``), terminal, then the user."""
    uid, gid = nobody()
    script = "tty; id -u; id -g; pwd"
    pp = run_as(reactor, run_until, "sh", "-c", script, uid=uid, gid=gid, usePTY=True, path="/")
    assert pp.reason.check(error.ProcessDone)
    lines = pp.out.split(b"\r\n")
    assert lines[0].startswith(b"/dev/pts/")
    assert lines[1:4] == [str(uid).encode(), str(gid).encode(), b"/"]


@needs_root
def test_a_program_nobody_may_not_run_fails_at_spawn(reactor: Any, tmp_path: Any) -> None:
    uid, gid = nobody()
    private = tmp_path / "private"
    private.write_text("#!/bin/sh\necho secret\n")
    private.chmod(0o700)  # root's alone
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(PermissionError, match="private.*exec"):
        reactor.spawnProcess(Output(), str(private), ["private"], {}, uid=uid, gid=gid)
    assert set(os.listdir("/proc/self/fd")) == before


@needs_root
def test_not_allowed_to_switch_is_an_error_from_spawn(reactor: Any) -> None:
    """A parent that is not root may not become another user: ``EPERM`` comes back
    from the child through the error pipe, naming the step."""
    uid, _ = nobody()
    os.seteuid(uid)  # we are nobody for this spawn (the saved uid lets us back)
    try:
        with pytest.raises(PermissionError, match=r"setuid 1: Operation not permitted"):
            reactor.spawnProcess(Output(), "true", ["true"], {}, uid=1)
        with pytest.raises(PermissionError, match=r"setgid 1: Operation not permitted"):
            reactor.spawnProcess(Output(), "true", ["true"], {}, gid=1)
    finally:
        os.seteuid(0)
    assert os.geteuid() == 0
