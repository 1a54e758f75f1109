"""``spawnProcess(..., usePTY=True)``: a child on a terminal, on every backend.

The child is a real Python process that checks what a terminal gives it (``isatty``
on 0, 1 and 2, its own session, the terminal as its controlling one, ``/dev/tty``)
and echoes what we type.  The terminal's line discipline is real too: it echoes our
input and writes ``\\r\\n`` for ``\\n``.  Nothing sleeps: the tests run the reactor
until the protocol's Deferreds fire.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import pytest

from logbot.reactor import error
from logbot.reactor.defer import Deferred
from logbot.reactor.process_pipes import PTYMaster
from logbot.reactor.protocol import ProcessProtocol

PY = sys.executable

CHECKS = """
import os, sys
print("tty", os.isatty(0), os.isatty(1), os.isatty(2))
print("session leader", os.getsid(0) == os.getpid())
print("foreground", os.tcgetpgrp(0) == os.getpgrp())
with open("/dev/tty", "w") as tty:  # only a process with a controlling terminal can
    tty.write("via /dev/tty\\n")
sys.stderr.write("on stderr\\n")
sys.stderr.flush()
print("ready", flush=True)
print("echo:", input().upper())
"""


class TerminalUser(ProcessProtocol):
    """Types ``line`` once the child says ``ready``; records all events."""

    def __init__(self, line: bytes = b"") -> None:
        self.line = line
        self.out = b""
        self.fds: set[int] = set()
        self.lost: list[int] = []
        self.events: list[str] = []
        self.ready: Deferred[None] = Deferred()
        self.ended: Deferred[Any] = Deferred()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.fds.add(childFD)
        self.out += data
        if b"ready\r\n" in self.out and not self.ready.called:
            if self.line:
                self.transport.write(self.line)
            self.ready.callback(None)

    def childConnectionLost(self, childFD: int) -> None:
        self.lost.append(childFD)

    def processExited(self, reason: Any) -> None:
        self.events.append("exited")

    def processEnded(self, reason: Any) -> None:
        self.events.append("ended")
        self.reason = reason
        self.ended.callback(self)  # (a Failure would errback the Deferred)


def fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def open_paths() -> set[str]:
    """What our descriptors point at (a pty's slave shows as its /dev/pts/N)."""
    paths = set()
    for fd in fds():
        try:
            paths.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return paths


def test_the_child_has_a_terminal_and_echoes(reactor: Any, run_until: Any) -> None:
    pp = TerminalUser(b"hello terminal\n")
    process = reactor.spawnProcess(pp, PY, [PY, "-c", CHECKS], None, usePTY=True)
    assert process.usePTY and isinstance(process.pipes[0], PTYMaster)
    reason = run_until(pp.ended).reason
    assert reason.check(error.ProcessDone)
    lines = pp.out.split(b"\r\n")  # the terminal turns \n into \r\n
    assert b"tty True True True" in lines
    assert b"session leader True" in lines
    assert b"foreground True" in lines
    assert b"via /dev/tty" in lines
    assert b"on stderr" in lines  # stderr is the same terminal
    assert b"hello terminal" in lines  # the terminal echoed what we typed
    assert b"echo: HELLO TERMINAL" in lines
    assert pp.fds == {1}  # the terminal is one stream: it arrives as stdout
    assert sorted(pp.lost) == [0, 1, 2]  # the terminal was all three
    assert pp.events == ["exited", "ended"]


def test_all_output_arrives_before_the_end(reactor: Any, run_until: Any) -> None:
    """The child writes a lot and exits at once: nothing may be lost at the hang-up."""
    size = 1 << 20
    pp = TerminalUser()
    script = f"import os; data = b'x' * {size}\nwhile data: data = data[os.write(1, data):]"
    reactor.spawnProcess(pp, PY, [PY, "-c", script], None, usePTY=True)
    reason = run_until(pp.ended).reason
    assert reason.check(error.ProcessDone)
    assert pp.out == b"x" * size


class HangUp(TerminalUser):
    """Once the child is ready: the half-closes (no-ops), then closing the terminal.

    (Done from the protocol: stopping the reactor in between would end the child.)
    """

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        super().childDataReceived(childFD, data)
        if self.ready.called and not hasattr(self, "stillOpen"):
            process = self.transport
            process.closeStdin()  # one terminal cannot be half closed (Twisted: no-ops)
            process.closeStdout()
            process.closeStderr()
            self.stillOpen = 0 in process.pipes and self.lost == []
            process.loseConnection()  # closing the terminal sends the session SIGHUP


def test_close_stdin_does_nothing_and_lose_connection_hangs_up(
    reactor: Any, run_until: Any
) -> None:
    pp = HangUp()
    script = "import time; print('ready', flush=True); time.sleep(60)"
    reactor.spawnProcess(pp, PY, [PY, "-c", script], None, usePTY=True)
    reason = run_until(pp.ended).reason
    assert pp.stillOpen
    assert reason.check(error.ProcessTerminated)
    assert reason.value.signal == signal.SIGHUP
    assert sorted(pp.lost) == [0, 1, 2]


def test_childfds_are_refused_with_a_terminal_and_nothing_leaks(reactor: Any) -> None:
    before = fds()
    with pytest.raises(ValueError, match="usePTY"):
        reactor.spawnProcess(
            TerminalUser(), PY, [PY, "-c", ""], None, usePTY=True, childFDs={0: "w", 1: "r"}
        )
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(TerminalUser(), "no-such-program", ["x"], {}, usePTY=True)
    assert fds() == before


def test_twisteds_tuple_form_and_the_descriptors_are_ours(reactor: Any, run_until: Any) -> None:
    before = fds()
    master, slave = os.openpty()
    name = os.ttyname(slave)
    assert name in open_paths()
    pp = TerminalUser(b"typed\n")
    reactor.spawnProcess(pp, PY, [PY, "-c", CHECKS], None, usePTY=(master, slave, name))
    assert name not in open_paths()  # closed in the parent once the child has it
    reason = run_until(pp.ended).reason
    assert reason.check(error.ProcessDone)
    assert b"echo: TYPED\r\n" in pp.out
    assert fds() == before  # and the master once the terminal was gone


def test_a_child_that_exits_at_once_still_ends(reactor: Any, run_until: Any) -> None:
    pp = TerminalUser()
    reactor.spawnProcess(pp, "true", ["true"], {}, usePTY=True)
    reason = run_until(pp.ended).reason
    assert reason.check(error.ProcessDone)
    assert pp.out == b""
    assert sorted(pp.lost) == [0, 1, 2]


def test_exit_code_through_a_terminal(reactor: Any, run_until: Any) -> None:
    pp = TerminalUser()
    reactor.spawnProcess(pp, "sh", ["sh", "-c", "tty; exit 3"], None, usePTY=True)
    reason = run_until(pp.ended).reason
    assert reason.check(error.ProcessTerminated) and reason.value.exitCode == 3
    assert pp.out.startswith(b"/dev/pts/")


def test_exec_failure_on_a_terminal_leaks_nothing(reactor: Any, tmp_path: Any) -> None:
    bogus = tmp_path / "bogus"
    bogus.write_bytes(b"\x00\x01 not a program\n")
    bogus.chmod(0o755)
    before = open_paths()
    with pytest.raises(OSError, match="bogus.*exec") as info:
        reactor.spawnProcess(TerminalUser(), str(bogus), ["bogus"], {}, usePTY=True)
    assert info.value.errno == 8  # ENOEXEC, from the child through the error pipe
    assert open_paths() == before  # the pty we opened is closed again
    master, slave = os.openpty()
    name = os.ttyname(slave)
    with pytest.raises(OSError):
        reactor.spawnProcess(
            TerminalUser(), str(bogus), ["bogus"], {}, usePTY=(master, slave, name)
        )
    assert name in open_paths()  # a failed spawn leaves the caller's pty to the caller
    os.close(master)
    os.close(slave)
