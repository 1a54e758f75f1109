"""Child processes: spawnProcess, the process transport, reaping, shutdown.

Every test takes the ``reactor`` fixture, so it runs on epoll, poll and select.  Nothing
waits with sleep: tests run the reactor until a Deferred fires (``run_until``), and the
only timers are the ones the code under test owns (the shutdown grace).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import stat
import sys
import threading
from typing import Any

import pytest

from logbot.reactor import error, process, process_spawn
from logbot.reactor.defer import Deferred, DeferredList
from logbot.reactor.loop import Reactor
from logbot.reactor.protocol import ProcessProtocol

PY = sys.executable


@pytest.fixture(params=["posix_spawn", "fork"])
def spawn_mode(request, monkeypatch):
    """Both ways of starting a child: posix_spawn (no ``path``) and fork + exec."""
    monkeypatch.setattr(process_spawn, "USE_POSIX_SPAWN", request.param == "posix_spawn")
    return request.param


class Recorder(ProcessProtocol):
    """Records every event in order; ``ended`` fires with itself at processEnded."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.data: dict[int, bytes] = {}
        self.exited: Any = None
        self.reason: Any = None
        self.ended: Deferred = Deferred()

    def connectionMade(self) -> None:
        self.events.append("made")

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if not self.events or self.events[-1] != ("data", childFD):
            self.events.append(("data", childFD))
        self.data[childFD] = self.data.get(childFD, b"") + data
        super().childDataReceived(childFD, data)

    def childConnectionLost(self, childFD: int) -> None:
        self.events.append(("lost", childFD))
        super().childConnectionLost(childFD)

    def processExited(self, reason: Any) -> None:
        self.events.append("exited")
        self.exited = reason

    def processEnded(self, reason: Any) -> None:
        self.events.append("ended")
        self.reason = reason
        self.ended.callback(self)

    def out(self) -> bytes:
        return self.data.get(1, b"")


def fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def zombies() -> list[int]:
    """Our children that have exited but were never reaped."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and fields[1] == me:
            found.append(int(entry))
    return found


def run(reactor: Reactor, run_until: Any, *argv: str, **kw: Any) -> Recorder:
    pp = Recorder()
    reactor.spawnProcess(pp, argv[0], list(argv), **kw)
    run_until(pp.ended)
    return pp


# -- the seed's programs ------------------------------------------------------------------

VERSE = (
    b"Aleph-null bottles of beer on the wall,\n"
    b"Aleph-null bottles of beer,\n"
    b"Take one down and pass it around,\n"
    b"Aleph-null bottles of beer on the wall.\n"
)


class BeerToWc(Recorder):
    def connectionMade(self) -> None:
        super().connectionMade()
        for _ in range(10):
            self.transport.write(VERSE)
        self.transport.closeStdin()


def test_wc_counts_forty_lines_and_both_exit_events_say_zero(spawn_mode, reactor, run_until):
    pp = BeerToWc()
    reactor.spawnProcess(pp, "wc", ["wc"], {})  # env {}: PATH is os.defpath
    run_until(pp.ended)
    assert re.split(rb"\s+", pp.out().strip())[0] == b"40"
    assert pp.exited.value.exitCode == 0 and pp.reason.value.exitCode == 0
    assert pp.reason.check(error.ProcessDone)
    ev = pp.events
    assert ev[0] == "made" and ev[-1] == "ended"
    assert ev.index(("lost", 0)) < ev.index(("data", 1)) < ev.index(("lost", 1))
    assert ev.index("exited") < ev.index("ended")
    assert {("lost", 0), ("lost", 1), ("lost", 2)} <= set(ev[:-1])


class GPGProtocol(ProcessProtocol):
    """The seed's GPG program, with its fd numbers filled in."""

    def __init__(self, crypttext: bytes, passphrase: bytes) -> None:
        self.crypttext = crypttext
        self.passphrase = passphrase
        self.plaintext = b""
        self.status = b""
        self.deferred: Deferred = Deferred()

    def connectionMade(self) -> None:
        self.transport.writeToChild(3, self.passphrase)
        self.transport.closeChildFD(3)
        self.transport.writeToChild(0, self.crypttext)
        self.transport.closeChildFD(0)

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD == 1:
            self.plaintext += data
        if childFD == 4:
            self.status += data

    def processEnded(self, status: Any) -> None:
        rc = status.value.exitCode
        if rc == 0:
            self.deferred.callback(self)
        else:
            self.deferred.errback(status)


@pytest.fixture
def gnupghome(tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield str(home)
    # gpg may have started an agent for this home: ask it to leave (not from logbot/).
    import subprocess

    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False
    )


def test_gpg_decrypts_with_passphrase_on_fd3_and_status_on_fd4(reactor, run_until, gnupghome):
    env = {**os.environ, "GNUPGHOME": gnupghome}
    secret, passphrase = b"the logs are rotated at midnight\n", b"correct horse\n"
    enc = Recorder()

    class Encrypt(Recorder):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.writeToChild(3, passphrase)
            self.transport.closeChildFD(3)
            self.transport.write(secret)
            self.transport.closeStdin()

    enc = Encrypt()
    reactor.spawnProcess(
        enc,
        "gpg",
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase-fd",
            "3",
            "--symmetric",
            "-o",
            "-",
        ],
        env,
        childFDs={0: "w", 1: "r", 2: "r", 3: "w"},
    )
    run_until(enc.ended)
    assert enc.reason.check(error.ProcessDone), enc.data.get(2)
    crypttext = enc.out()
    assert crypttext and secret not in crypttext

    gp = GPGProtocol(crypttext, passphrase)
    cmd = [
        "gpg",
        "--decrypt",
        "--passphrase-fd",
        "3",
        "--status-fd",
        "4",
        "--batch",
        "--pinentry-mode",
        "loopback",
    ]
    p = reactor.spawnProcess(
        gp, cmd[0], cmd, env=env, childFDs={0: "w", 1: "r", 2: 2, 3: "w", 4: "r"}
    )
    assert isinstance(p.pid, int)
    run_until(gp.deferred)
    assert gp.plaintext == secret
    assert b"[GNUPG:] DECRYPTION_OKAY" in gp.status


# -- volume and concurrency -------------------------------------------------------------

CHUNK = 64 * 1024
TOTAL = 10 * 1024 * 1024


class Pump(Recorder):
    """Streams TOTAL bytes into cat as a streaming producer and hashes what comes back."""

    def __init__(self, streaming: bool) -> None:
        super().__init__()
        self.streaming = streaming
        self.sent = 0
        self.received = 0
        self.paused = False
        self.pauses = 0
        self.maxBuffered = 0
        self.block = bytes(range(256)) * (CHUNK // 256)
        self.hin, self.hout = hashlib.sha256(), hashlib.sha256()

    def connectionMade(self) -> None:
        super().connectionMade()
        self.transport.registerProducer(self, self.streaming)
        if self.streaming:
            self.resumeProducing()

    def resumeProducing(self) -> None:
        self.paused = False
        pipe = self.transport.pipes[0]
        while not self.paused and self.sent < TOTAL:
            block = self.block[: TOTAL - self.sent]
            self.hin.update(block)
            self.sent += len(block)
            self.transport.write(block)
            self.maxBuffered = max(self.maxBuffered, pipe.bufferedBytes)
            if not self.streaming:
                break
        if self.sent >= TOTAL and 0 in self.transport.pipes:
            self.transport.unregisterProducer()
            self.transport.closeStdin()

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def stopProducing(self) -> None:
        self.paused = True

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.received += len(data)
        self.hout.update(data)


@pytest.mark.parametrize("streaming", [True, False], ids=["push", "pull"])
def test_ten_mib_through_cat_with_bounded_buffer(reactor, run_until, streaming):
    pp = Pump(streaming)
    p = reactor.spawnProcess(pp, "cat", ["cat"], None)
    high = p.pipes[0].highWater
    run_until(pp.ended, timeout=30)
    assert pp.reason.check(error.ProcessDone)
    assert pp.sent == pp.received == TOTAL
    assert pp.hin.digest() == pp.hout.digest()
    assert pp.maxBuffered <= high + CHUNK
    if streaming:
        assert pp.pauses > 0  # the flow control really engaged


def test_a_hundred_concurrent_children(spawn_mode, reactor, run_until):
    pps = []
    for i in range(100):
        pp = Recorder()
        reactor.spawnProcess(pp, "echo", ["echo", f"child {i}"], {})
        pps.append(pp)
    run_until(DeferredList([pp.ended for pp in pps]), timeout=30)
    for i, pp in enumerate(pps):
        assert pp.out() == f"child {i}\n".encode()
        assert pp.reason.check(error.ProcessDone)
    assert not zombies()


def test_no_descriptor_leaks_over_two_hundred_spawns(spawn_mode, reactor, run_until):
    before = fds()
    for _batch in range(4):
        pps = [Recorder() for _ in range(50)]
        for pp in pps:
            reactor.spawnProcess(pp, "true", ["true"], {})
        run_until(DeferredList([pp.ended for pp in pps]), timeout=30)
    assert fds() == before
    assert not zombies()


# -- exits, signals, early closes -------------------------------------------------------


def test_child_killed_by_a_signal(spawn_mode, reactor, run_until):
    pp = Recorder()
    p = reactor.spawnProcess(pp, "sleep", ["sleep", "30"], {})
    p.signalProcess("KILL")
    run_until(pp.ended)
    assert pp.reason.check(error.ProcessTerminated)
    assert pp.reason.value.signal == signal.SIGKILL
    assert pp.reason.value.exitCode is None
    assert pp.exited.value.signal == signal.SIGKILL
    assert p.pid is None
    with pytest.raises(error.ProcessExitedAlready):
        p.signalProcess("TERM")


def test_signal_by_number_and_exit_code(reactor, run_until):
    pp = Recorder()
    p = reactor.spawnProcess(pp, "sleep", ["sleep", "30"], {})
    p.signalProcess(int(signal.SIGTERM))
    run_until(pp.ended)
    assert pp.reason.value.signal == signal.SIGTERM
    pp = run(reactor, run_until, "sh", "-c", "exit 7", env={})
    assert pp.reason.value.exitCode == 7 and pp.reason.value.signal is None


def test_child_closes_stdout_early_and_keeps_running(reactor, run_until):
    class Early(Recorder):
        def outConnectionLost(self) -> None:
            # stdout is gone but the child still runs: it is waiting for our line.
            self.events.append(("running", self.transport.pid is not None))
            self.transport.write(b"go\n")

    pp = Early()
    reactor.spawnProcess(pp, "sh", ["sh", "-c", "exec 1>&-; read x; exit 3"], {})
    run_until(pp.ended)
    assert ("running", True) in pp.events
    assert pp.events.index(("lost", 1)) < pp.events.index("exited")
    assert pp.reason.value.exitCode == 3


def test_child_that_ignores_term_is_then_killed(reactor, run_until):
    class Stubborn(Recorder):
        def outReceived(self, data: bytes) -> None:
            if data == b"ready\n":
                self.transport.signalProcess("TERM")  # ignored: discarded at once
                self.transport.write(b"still there?\n")
            elif data == b"alive\n":
                self.transport.signalProcess("KILL")

    pp = Stubborn()
    script = 'trap "" TERM; echo ready; read x; echo alive; exec sleep 30'
    reactor.spawnProcess(pp, "sh", ["sh", "-c", script], {})
    run_until(pp.ended)
    assert pp.out() == b"ready\nalive\n"
    assert pp.reason.value.signal == signal.SIGKILL


def test_exit_without_reading_stdin_still_ends(reactor, run_until):
    """stdin is never closed by us: the child's exit must close it (the read hack)."""
    pp = run(reactor, run_until, "true", env={})
    assert ("lost", 0) in pp.events and pp.events[-1] == "ended"


def test_child_that_exited_while_the_loop_was_busy_is_reaped(reactor, run_until):
    pp = Recorder()
    p = reactor.spawnProcess(pp, "true", ["true"], {})
    pid = p.pid
    while not os.path.exists(f"/proc/{pid}") or pid not in zombies():
        pass  # the loop is "busy": the child exits and SIGCHLD arrives meanwhile
    run_until(pp.ended)
    assert pp.reason.check(error.ProcessDone)
    assert not zombies()


def test_lose_connection_closes_all_pipes(reactor, run_until):
    class Closer(Recorder):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.write(b"flushed before the close\n")
            self.transport.loseConnection()

    pp = Closer()
    reactor.spawnProcess(pp, "cat", ["cat"], {})
    run_until(pp.ended)
    assert pp.reason.check(error.ProcessDone) or pp.reason.value.signal == signal.SIGPIPE
    assert {("lost", 0), ("lost", 1), ("lost", 2)} <= set(pp.events)


def test_write_to_a_descriptor_that_is_not_a_write_pipe(reactor, run_until):
    pp = Recorder()
    p = reactor.spawnProcess(pp, "cat", ["cat"], {})
    with pytest.raises(KeyError):
        p.writeToChild(5, b"x")
    with pytest.raises(KeyError):
        p.writeToChild(1, b"x")
    with pytest.raises(TypeError):
        p.write("text")
    with pytest.raises(ValueError):
        p.signalProcess("NOSUCHSIGNAL")
    p.closeStdin()
    run_until(pp.ended)
    p.write(b"after the close: ignored")


# -- errors at spawn time ---------------------------------------------------------------


def test_missing_executable_raises_at_once_and_leaks_nothing(spawn_mode, reactor):
    before = fds()
    pp = Recorder()
    with pytest.raises(FileNotFoundError, match="no-such-program.*PATH"):
        reactor.spawnProcess(pp, "no-such-program", ["no-such-program"], {})
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(pp, "./no/such/program", ["x"], None)
    assert pp.events == [] and pp.transport is None
    assert fds() == before
    assert not zombies()


def test_exec_failure_in_the_child_comes_back_through_the_error_pipe(spawn_mode, reactor, tmp_path):
    bogus = tmp_path / "bogus"
    bogus.write_bytes(b"\x00\x01 not a program and no #! line\n")
    bogus.chmod(0o755)
    before = fds()
    with pytest.raises(OSError, match="bogus.*exec") as info:
        reactor.spawnProcess(Recorder(), str(bogus), ["bogus"], {})
    assert info.value.errno == 8  # ENOEXEC, raised in the child by execve
    assert fds() == before
    assert not zombies()


def test_bad_working_directory_raises(reactor, tmp_path):
    before = fds()
    with pytest.raises(FileNotFoundError, match="working directory"):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, path=str(tmp_path / "nope"))
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(NotADirectoryError):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, path=str(afile))
    assert fds() == before


def test_path_is_the_working_directory(reactor, run_until, tmp_path):
    pp = run(reactor, run_until, "pwd", env={}, path=str(tmp_path))
    assert pp.out().strip() == os.fsencode(tmp_path.resolve())


def test_bad_arguments(spawn_mode, reactor):
    with pytest.raises(ValueError, match="childFDs cannot be used with usePTY"):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, usePTY=True, childFDs={0: "w"})
    with pytest.raises(TypeError, match="uid must be an int"):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, uid="nobody")
    with pytest.raises(ValueError, match="gid -1 is out of range"):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, gid=-1)
    with pytest.raises(ValueError):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, childFDs={0: "x"})
    with pytest.raises(OSError):
        reactor.spawnProcess(Recorder(), "true", ["true"], {}, childFDs={0: 999})


# -- environment ----------------------------------------------------------------------


def test_env_dict_replaces_the_environment(spawn_mode, reactor, run_until):
    pp = run(reactor, run_until, "env", env={"LOGBOT_TEST": "yes"})
    assert pp.out() == b"LOGBOT_TEST=yes\n"
    pp = run(reactor, run_until, "env", env={})
    assert pp.out() == b""


def test_env_none_inherits(spawn_mode, reactor, run_until, monkeypatch):
    monkeypatch.setenv("LOGBOT_INHERITED", "from the parent")
    pp = run(reactor, run_until, "env", env=None)
    assert b"LOGBOT_INHERITED=from the parent\n" in pp.out()


def test_executable_is_found_on_the_path_of_the_child_env(reactor, run_until, tmp_path):
    tool = tmp_path / "logbot-tool"
    tool.write_text("#!/bin/sh\necho tool ran\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    pp = run(reactor, run_until, "logbot-tool", env={"PATH": str(tmp_path)})
    assert pp.out() == b"tool ran\n"
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(Recorder(), "logbot-tool", ["logbot-tool"], {})


# -- childFDs ---------------------------------------------------------------------------

LIST_FDS = (
    "import os; print(sorted(int(x) for x in os.listdir('/proc/self/fd')"
    " if os.path.exists('/proc/self/fd/' + x)))"
)


def test_only_the_named_descriptors_reach_the_child(spawn_mode, reactor, run_until):
    r, w = os.pipe()
    os.set_inheritable(r, True)  # even an inheritable descriptor must not leak
    os.set_inheritable(w, True)
    try:
        pp = run(
            reactor,
            run_until,
            PY,
            "-c",
            LIST_FDS,
            env=None,
            childFDs={0: "w", 1: "r", 2: "r", 5: "r", 7: "w"},
        )
    finally:
        os.close(r)
        os.close(w)
    assert pp.out() == b"[0, 1, 2, 5, 7]\n"


def test_inherited_descriptors_even_when_targets_collide(spawn_mode, reactor, run_until, tmp_path):
    a = os.open(tmp_path / "a", os.O_WRONLY | os.O_CREAT)
    b = os.open(tmp_path / "b", os.O_WRONLY | os.O_CREAT)
    code = "import os, sys; os.write(int(sys.argv[1]), b'one'); os.write(int(sys.argv[2]), b'two')"
    try:
        # a and b swap places: each target is the other's source.
        pp = run(
            reactor,
            run_until,
            PY,
            "-c",
            code,
            str(a),
            str(b),
            env=None,
            childFDs={0: "w", 1: "r", 2: "r", a: b, b: a},
        )
    finally:
        os.close(a)
        os.close(b)
    assert pp.reason.check(error.ProcessDone), pp.data.get(2)
    assert (tmp_path / "a").read_bytes() == b"two"
    assert (tmp_path / "b").read_bytes() == b"one"


def test_inherited_int_as_stdout(spawn_mode, reactor, run_until, tmp_path):
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        pp = run(
            reactor, run_until, "echo", "to the file", env={}, childFDs={0: "w", 1: fd, 2: "r"}
        )
    finally:
        os.close(fd)
    assert pp.out() == b""
    assert (tmp_path / "out").read_bytes() == b"to the file\n"
    assert ("lost", 1) not in pp.events


# -- threads and shutdown ---------------------------------------------------------------


def test_reactor_in_a_thread_reaps_by_polling(reactor):
    pps = [Recorder() for _ in range(3)]
    box: list[Any] = []

    def start() -> None:
        for pp in pps:
            reactor.spawnProcess(pp, "true", ["true"], {})
        DeferredList([pp.ended for pp in pps]).addBoth(lambda _: reactor.stop())
        reactor.callLater(10, lambda: reactor.running and not reactor._stopping and reactor.stop())

    def main() -> None:
        reactor.callWhenRunning(start)
        reactor.run(installSignalHandlers=False)
        box.append(True)

    t = threading.Thread(target=main)
    t.start()
    t.join(20)
    assert box and all(pp.reason is not None for pp in pps)
    assert all(pp.reason.check(error.ProcessDone) for pp in pps)
    assert signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL


def test_sigchld_is_given_back_when_idle(reactor, run_until):
    run(reactor, run_until, "true", env={})
    assert signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL


def test_shutdown_terminates_running_children(reactor):
    pp = Recorder()
    reactor.spawnProcess(pp, "sleep", ["sleep", "30"], {})
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert pp.reason is not None and pp.reason.value.signal == signal.SIGTERM
    assert not zombies()


def test_shutdown_kills_children_that_ignore_term(reactor, monkeypatch):
    monkeypatch.setattr(process, "SHUTDOWN_GRACE", 0.2)

    class StopWhenReady(Recorder):
        def outReceived(self, data: bytes) -> None:
            self.transport.reactor.stop()

    pp = StopWhenReady()
    script = 'trap "" TERM; echo ready; exec sleep 30'
    reactor.spawnProcess(pp, "sh", ["sh", "-c", script], {})
    reactor.run(installSignalHandlers=False)
    assert pp.reason is not None and pp.reason.value.signal == signal.SIGKILL
    assert not zombies()


# -- process groups (newSession) ----------------------------------------------------------


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan is a zombie until init reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def until_gone(reactor: Reactor, pid: int, limit: float = 5.0) -> Deferred:
    """Fires once ``pid`` is no longer running, polled on the reactor's timers; fails
    after ``limit`` seconds."""
    d: Deferred = Deferred()
    start = reactor.seconds()

    def poll() -> None:
        if not running(pid):
            d.callback(None)
        elif reactor.seconds() - start > limit:
            d.errback(AssertionError(f"process {pid} still runs after {limit:g} s"))
        else:
            reactor.callLater(0.01, poll)

    reactor.callLater(0, poll)
    return d


class FirstLine(Recorder):
    """``line`` fires with the first line of stdout (a grandchild's pid)."""

    def __init__(self) -> None:
        super().__init__()
        self.line: Deferred = Deferred()

    def outReceived(self, data: bytes) -> None:
        if not self.line.called and b"\n" in self.out():
            self.line.callback(int(self.out().split(b"\n")[0]))


def kill_quietly(pid: int | None) -> None:
    """Clean up after a failing test: the grandchild must not outlive it."""
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_new_session_leads_its_own_group_and_session(spawn_mode, reactor, run_until, tmp_path):
    code = "import os; print(os.getpid(), os.getpgid(0), os.getsid(0))"
    kw = {"path": str(tmp_path)} if spawn_mode == "fork" else {}
    pp = Recorder()
    process_ = reactor.spawnProcess(pp, PY, [PY, "-c", code], {}, newSession=True, **kw)
    assert process_.ownGroup
    run_until(pp.ended)
    pid, pgid, sid = map(int, pp.out().split())
    assert pid == pgid == sid and pgid != os.getpgid(0)
    plain = run(reactor, run_until, PY, "-c", code, env={})
    assert int(plain.out().split()[1]) == os.getpgid(0)  # without it: our group, as before


def test_new_session_signals_go_to_the_whole_group(spawn_mode, reactor, run_until, tmp_path):
    # The child ignores TERM (set after the grandchild started, which keeps the default)
    # and waits for the grandchild: it ends only if the TERM reached the grandchild.
    class TermWhenReady(FirstLine):
        signalled = False

        def outReceived(self, data: bytes) -> None:
            super().outReceived(data)
            if self.line.called and not self.signalled:
                self.signalled = True
                self.transport.signalProcess("TERM")

    kw = {"path": str(tmp_path)} if spawn_mode == "fork" else {}
    pp = TermWhenReady()
    script = "sleep 1000 & trap '' TERM; echo $!; wait"
    reactor.spawnProcess(pp, "sh", ["sh", "-c", script], {}, newSession=True, **kw)
    grandchild: list[int] = []
    pp.line.addCallback(grandchild.append)
    try:
        run_until(pp.ended, timeout=10)
        assert pp.signalled and pp.reason.check(error.ProcessDone)
        run_until(until_gone(reactor, grandchild[0]), timeout=10)
    finally:
        kill_quietly(grandchild[0] if grandchild else None)
    assert not zombies()


def test_new_session_leftovers_are_killed_when_the_child_exits(
    spawn_mode, reactor, run_until, tmp_path
):
    kw = {"path": str(tmp_path)} if spawn_mode == "fork" else {}
    pp = FirstLine()
    script = "sleep 1000 > /dev/null 2>&1 & echo $!"
    reactor.spawnProcess(pp, "sh", ["sh", "-c", script], {}, newSession=True, **kw)
    run_until(pp.ended, timeout=10)
    grandchild = int(pp.out().split()[0])
    try:
        assert pp.reason.check(error.ProcessDone)  # the child's own status is kept
        run_until(until_gone(reactor, grandchild), timeout=10)
    finally:
        kill_quietly(grandchild)


def test_shutdown_terminates_the_whole_group(reactor, run_until):
    class StopWhenReady(FirstLine):
        def outReceived(self, data: bytes) -> None:
            super().outReceived(data)
            self.transport.reactor.stop()

    pp = StopWhenReady()
    script = "sleep 1000 > /dev/null 2>&1 & echo $!; exec sleep 1000"
    reactor.spawnProcess(pp, "sh", ["sh", "-c", script], {}, newSession=True)
    reactor.run(installSignalHandlers=False)
    grandchild = int(pp.out().split()[0])
    try:
        assert pp.reason is not None and pp.reason.value.signal == signal.SIGTERM
        run_until(until_gone(reactor, grandchild), timeout=10)
    finally:
        kill_quietly(grandchild)
    assert not zombies()
