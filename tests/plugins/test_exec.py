"""Exec plugins: real children on every reactor backend, the deadline on a fake clock.

The real tests never sleep: they run the reactor until the plugin's Deferred fires
(``run_until``, whose timeout only fails a test that would hang).  The timing rules
(the deadline, "nothing fires before processEnded") are checked on
``MemoryReactorClock``, whose time moves only when the test says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from logbot.plugins import exec as execmod
from logbot.plugins.exec import (
    ExecPlugin,
    ExecPluginError,
    ExecPluginTimeout,
    find_exec_plugins,
    read_exec_header,
)
from logbot.reactor.defer import CancelledError, Deferred
from logbot.reactor.error import ProcessDone, ProcessTerminated
from logbot.reactor.failure import Failure
from logbot.reactor.testing import MemoryReactorClock
from tests.reactor.test_process import running

PY = sys.executable
REPO = Path(__file__).resolve().parents[2]
ROLL = REPO / "plugins" / "exec.d" / "roll.sh"
EXEC_LOG = "logbot.plugins.exec"

REQUEST: dict[str, Any] = {
    "command": "t",
    "args": ["two", "wörds"],
    "text": "two  wörds",
    "nick": "alice",
    "user": "~al",
    "host": "example.org",
    "account": "alice",
    "channel": "#chan",
    "network": "libera",
    "private": False,
}


def request(**changes: Any) -> dict[str, Any]:
    return {**REQUEST, **changes}


class Recording:
    """A reactor that remembers the processes spawned through it (for their pids)."""

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self.processes: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)

    def spawnProcess(self, *args: Any, **kw: Any) -> Any:
        process = self._reactor.spawnProcess(*args, **kw)
        self.processes.append(process)
        return process


def python(code: str) -> list[str]:
    return [PY, "-c", code]


def failure_of(run_until: Any, d: Any) -> BaseException:
    """The exception ``d`` fails with, within 5 s.

    The bound matters: a run_until that times out stops the reactor, and its shutdown
    kills the children left after a 5 s grace, which would fire ``d`` late but fine.
    """
    start = time.monotonic()
    with pytest.raises(BaseException) as info:
        run_until(d, timeout=5)
    assert time.monotonic() - start < 5, "the use ended only with the reactor"
    return info.value


def exec_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == EXEC_LOG and r.levelno == logging.WARNING
    ]


def gone(pid: int) -> bool:
    """Neither running nor a zombie (reaped)."""
    return not os.path.exists(f"/proc/{pid}")


# -- real children, every backend -----------------------------------------------------------


def test_stdout_lines_are_the_reply(reactor: Any, run_until: Any) -> None:
    p = ExecPlugin("t", ["sh", "-c", r'printf "one\r\ntwo\n\nthree \n"'], reactor)
    assert run_until(p.run(REQUEST), timeout=10) == ["one", "two", "", "three "]
    p = ExecPlugin("t", ["sh", "-c", r'printf "a\nb"'], reactor)
    assert run_until(p.run(REQUEST), timeout=10) == ["a", "b"]
    p = ExecPlugin("t", ["sh", "-c", r"printf 'caf\303\251 \377!\n'"], reactor)
    assert run_until(p.run(REQUEST), timeout=10) == ["café \ufffd!"]
    p = ExecPlugin("t", ["true"], reactor)
    assert run_until(p.run(REQUEST), timeout=10) == []


ECHO_STDIN = """
import json, sys
line = sys.stdin.buffer.readline()
rest = sys.stdin.buffer.read()
print(json.dumps({"request": json.loads(line.decode("utf-8")), "rest": rest.decode(),
                  "raw_utf8": "wörds".encode() in line}))
"""


def test_stdin_is_one_json_line_with_exactly_the_request(reactor: Any, run_until: Any) -> None:
    p = ExecPlugin("t", python(ECHO_STDIN), reactor)
    given = request(secret="not for the child", channel=None, private=True)
    [out] = run_until(p.run(given), timeout=10)
    echoed = json.loads(out)
    assert echoed["request"] == {k: v for k, v in given.items() if k != "secret"}
    assert echoed["rest"] == "" and echoed["raw_utf8"]
    # Only the keys given are passed: nothing is made up.
    [out] = run_until(p.run({"command": "t", "args": ("x",), "nick": "bob"}), timeout=10)
    assert json.loads(out)["request"] == {"command": "t", "args": ["x"], "nick": "bob"}


def test_environment_is_minimal_and_has_the_request(
    reactor: Any, run_until: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGBOT_TEST_SECRET", "do not leak")
    monkeypatch.setenv("HOME", "/home/bot")
    p = ExecPlugin("t", ["env"], reactor, env={"EXTRA": "yes", "LOGBOT_NICK": "overridden"})
    lines = run_until(
        p.run(request(nick="al\0ice", channel=None, account=None, args=["a", "b\0", "c"])),
        timeout=10,
    )
    env = dict(line.split("=", 1) for line in lines)
    assert env == {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "HOME": "/home/bot",
        "EXTRA": "yes",
        "LOGBOT_COMMAND": "t",
        "LOGBOT_ARGS": "a b c",
        "LOGBOT_NICK": "alice",
        "LOGBOT_CHANNEL": "",
        "LOGBOT_ACCOUNT": "",
        "LOGBOT_NETWORK": "libera",
    }


def test_non_zero_exit_is_an_error_without_the_output(reactor: Any, run_until: Any) -> None:
    p = ExecPlugin("t", ["sh", "-c", "echo secret output; exit 3"], reactor)
    err = failure_of(run_until, p.run(REQUEST))
    assert type(err) is ExecPluginError
    assert str(err) == "t exited with status 3"


def test_killed_by_a_signal(reactor: Any, run_until: Any) -> None:
    p = ExecPlugin("t", ["sh", "-c", "echo partial; kill -TERM $$"], reactor)
    err = failure_of(run_until, p.run(REQUEST))
    assert type(err) is ExecPluginError
    assert str(err) == "t was killed by signal SIGTERM"


def test_deadline_kills_a_child_that_never_ends(reactor: Any, run_until: Any) -> None:
    spawner = Recording(reactor)
    # TERM is ignored: only KILL ends it.
    p = ExecPlugin(
        "slow", ["sh", "-c", "trap '' TERM; echo started; exec sleep 60"], spawner, timeout=0.5
    )
    start = reactor.seconds()
    d = p.run(REQUEST)
    pid = spawner.processes[0].pid
    err = failure_of(run_until, d)
    assert type(err) is ExecPluginTimeout and isinstance(err, ExecPluginError)
    assert str(err) == "slow took longer than 0.5 s and was killed"
    assert reactor.seconds() - start >= 0.5
    assert spawner.processes[0].status is not None
    assert os.WTERMSIG(spawner.processes[0].status) == signal.SIGKILL
    assert gone(pid)


def until(reactor: Any, check: Any, what: str, limit: float = 5.0) -> Deferred[None]:
    """A Deferred that fires once ``check()`` is true, polled on the reactor's timers
    (never at once, so a run_until on it always runs, and so stops, the reactor); it
    fails after ``limit`` seconds."""
    d: Deferred[None] = Deferred()
    start = reactor.seconds()

    def poll() -> None:
        if check():
            d.callback(None)
        elif reactor.seconds() - start > limit:
            d.errback(AssertionError(f"{what}: not within {limit:g} s"))
        else:
            reactor.callLater(0.01, poll)

    reactor.callLater(0, poll)
    return d


def grandchild(pidfile: Path) -> int:
    return int(pidfile.read_text())


def kill_if_left(pidfile: Path) -> None:
    """Clean up after a failing test: the old code left ``sleep 1000`` running."""
    if pidfile.exists() and pidfile.read_text().strip():
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild(pidfile), signal.SIGKILL)


def test_deadline_kills_a_grandchild_that_holds_stdout(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    # issue 15: "sleep 1000 &" in a plugin ran on after the timeout.
    pidfile = tmp_path / "grandchild"
    script = f'sleep 1000 & echo $! > "{pidfile}"; wait'
    p = ExecPlugin("t", ["sh", "-c", script], reactor, timeout=1.0)
    try:
        err = failure_of(run_until, p.run(REQUEST))
        assert type(err) is ExecPluginTimeout  # at once: the whole group was killed
        pid = grandchild(pidfile)
        run_until(until(reactor, lambda: not running(pid), "the grandchild is gone"), timeout=10)
    finally:
        kill_if_left(pidfile)


def test_a_grandchild_left_behind_by_a_finished_use_is_killed(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    # Its output goes elsewhere, so nothing held the use open: it ran on for good.
    pidfile = tmp_path / "grandchild"
    script = f'sleep 1000 > /dev/null 2>&1 & echo $! > "{pidfile}"; echo done'
    p = ExecPlugin("t", ["sh", "-c", script], reactor)
    try:
        assert run_until(p.run(REQUEST), timeout=10) == ["done"]
        pid = grandchild(pidfile)
        run_until(until(reactor, lambda: not running(pid), "the grandchild is gone"), timeout=10)
    finally:
        kill_if_left(pidfile)


def test_a_grandchild_is_killed_when_the_bot_stops(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    # The use is still running when the reactor shuts down (as at SIGTERM to logbot):
    # the shutdown's TERM goes to the whole group, not only to the child.
    pidfile = tmp_path / "grandchild"
    script = f'sleep 1000 > /dev/null 2>&1 & echo $! > "{pidfile}"; exec sleep 1000'
    p = ExecPlugin("t", ["sh", "-c", script], reactor, timeout=60)
    results: list[Any] = []
    p.run(REQUEST).addBoth(results.append)
    try:
        # run_until stops the reactor once the pid is written: its shutdown runs then.
        run_until(until(reactor, lambda: pidfile.exists() and pidfile.read_text(), "pid"))
        [failure] = results  # the shutdown waited for the use's end
        assert str(failure.value) == "t was killed by signal SIGTERM"
        pid = grandchild(pidfile)
        run_until(until(reactor, lambda: not running(pid), "the grandchild is gone"), timeout=10)
    finally:
        kill_if_left(pidfile)


def test_each_use_runs_in_a_session_of_its_own(reactor: Any, run_until: Any) -> None:
    code = "import os; print(os.getpid(), os.getpgid(0), os.getsid(0))"
    [line] = run_until(ExecPlugin("t", python(code), reactor).run(REQUEST), timeout=10)
    pid, pgid, sid = map(int, line.split())
    assert pid == pgid == sid and pgid != os.getpgid(0)


def test_more_output_than_max_output_kills_the_child(reactor: Any, run_until: Any) -> None:
    spawner = Recording(reactor)
    p = ExecPlugin("chatty", ["yes"], spawner, max_output=1000)
    err = failure_of(run_until, p.run(REQUEST))
    assert type(err) is ExecPluginError
    assert str(err) == "chatty wrote more than 1000 bytes"
    assert os.WTERMSIG(spawner.processes[0].status) == signal.SIGKILL
    exact = ExecPlugin("t", python("print('x' * 999)"), reactor, max_output=1000)
    assert run_until(exact.run(REQUEST), timeout=10) == ["x" * 999]


def test_stderr_lines_are_logged(
    reactor: Any, run_until: Any, caplog: pytest.LogCaptureFixture
) -> None:
    script = r'echo one >&2; printf "two\r\nthr" >&2; echo out; printf ee >&2'
    p = ExecPlugin("t", ["sh", "-c", script], reactor)
    assert run_until(p.run(REQUEST), timeout=10) == ["out"]
    assert exec_warnings(caplog) == [
        "exec plugin t: one",
        "exec plugin t: two",
        "exec plugin t: three",
    ]


def test_stderr_is_capped_per_run(
    reactor: Any, run_until: Any, caplog: pytest.LogCaptureFixture
) -> None:
    code = "import sys\nfor i in range(150): print(i, file=sys.stderr)\nprint('done')"
    p = ExecPlugin("t", python(code), reactor)
    assert run_until(p.run(REQUEST), timeout=10) == ["done"]
    logged = exec_warnings(caplog)
    assert logged == [f"exec plugin t: {i}" for i in range(100)] + [
        "exec plugin t: ... more stderr dropped"
    ]
    caplog.clear()
    assert run_until(p.run(REQUEST), timeout=10) == ["done"]
    assert len(exec_warnings(caplog)) == 101  # the cap is per run


def test_missing_or_not_executable_program(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    p = ExecPlugin("t", [str(tmp_path / "missing")], reactor)
    d = p.run(REQUEST)
    assert d.called  # at once: nothing was started
    err = failure_of(run_until, d)
    assert type(err) is ExecPluginError
    assert str(err) == f"t: cannot run {tmp_path / 'missing'}: No such file or directory"
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    err = failure_of(run_until, ExecPlugin("t", [str(script)], reactor).run(REQUEST))
    assert str(err) == f"t: cannot run {script}: Permission denied"


def test_cancel_kills_the_child_and_fires_after_it_ended(reactor: Any, run_until: Any) -> None:
    spawner = Recording(reactor)
    p = ExecPlugin("t", ["sleep", "60"], spawner)
    d = p.run(REQUEST)
    seen: list[Any] = []
    d.addBoth(lambda r: seen.append(r) or r)
    process = spawner.processes[0]
    pid = process.pid
    d.cancel()
    assert seen == []  # the child has not ended yet
    err = failure_of(run_until, d)
    assert type(err) is CancelledError
    assert os.WTERMSIG(process.status) == signal.SIGKILL
    assert gone(pid)
    d.cancel()  # already fired: nothing


def test_runs_one_process_per_use(reactor: Any, run_until: Any) -> None:
    p = ExecPlugin("t", ["sh", "-c", "echo $$"], reactor)
    pids = {run_until(p.run(REQUEST), timeout=10)[0] for _ in range(3)}
    assert len(pids) == 3


# -- the bundled roll.sh ----------------------------------------------------------------------


def test_roll_sh_is_found_with_its_header() -> None:
    assert find_exec_plugins([REPO / "plugins"])["roll"] == ROLL
    assert read_exec_header(ROLL) == ("rolls dice, e.g. 2d6", "[N]d<SIDES>")
    assert ROLL.read_text().startswith("#!/bin/sh\n")
    assert os.access(ROLL, os.X_OK)


def test_roll_sh_rolls_dice(reactor: Any, run_until: Any) -> None:
    roll = ExecPlugin("roll", [str(ROLL)], reactor)
    for _ in range(3):
        [line] = run_until(roll.run(request(command="roll", args=["2d6"], text="2d6")), timeout=10)
        m = re.fullmatch(r"alice rolls 2d6: (\d+) \+ (\d+) = (\d+)", line)
        assert m, line
        a, b, total = map(int, m.groups())
        assert 1 <= a <= 6 and 1 <= b <= 6 and a + b == total
    [line] = run_until(roll.run(request(command="roll", args=[], text="")), timeout=10)
    assert re.fullmatch(r"alice rolls 1d6: ([1-6]) = \1", line), line


@pytest.mark.parametrize(
    "args", [["abc"], ["0d6"], ["21d6"], ["2d1"], ["2d1001"], ["$(id)d6"], ["2d6;id"], ["-1d6"]]
)
def test_roll_sh_answers_bad_input_with_its_usage(
    reactor: Any, run_until: Any, args: list[str]
) -> None:
    roll = ExecPlugin("roll", [str(ROLL)], reactor)
    lines = run_until(roll.run(request(command="roll", args=args, text=" ".join(args))), timeout=10)
    assert lines == ["usage: !roll [N]d<SIDES> (N 1..20, SIDES 2..1000), e.g. !roll 2d6"]


# -- the timing rules, on a fake clock ------------------------------------------------------


def fake_run(plugin_kw: dict[str, Any] | None = None) -> tuple[Any, Any, Any, list[Any]]:
    """Start a use on a MemoryReactorClock: (clock, protocol, transport, results)."""
    clock = MemoryReactorClock()
    p = ExecPlugin("t", ["prog", "--flag"], clock, **(plugin_kw or {}))
    d = p.run(REQUEST)
    results: list[Any] = []
    d.addBoth(results.append)
    proto = clock.spawnedProcesses[0][0]
    return clock, proto, proto.transport, results


def test_fake_spawn_arguments_and_stdin() -> None:
    clock, _proto, transport, _results = fake_run()
    assert transport.newSession  # the use leads a process group of its own
    _, executable, args, env, path, child_fds = clock.spawnedProcesses[0]
    assert (executable, args, path, child_fds) == ("prog", ["prog", "--flag"], None, None)
    assert env["LOGBOT_ARGS"] == "two wörds" and env["LOGBOT_CHANNEL"] == "#chan"
    assert transport.written[0].endswith(b"\n") and transport.written[0].count(b"\n") == 1
    assert json.loads(transport.written[0]) == REQUEST
    assert 0 in transport.closed_fds


def test_fake_deadline_sends_kill_and_waits_for_process_ended() -> None:
    clock, proto, transport, results = fake_run({"timeout": 10.0})
    clock.advance(9.99)
    assert transport.signals == [] and results == []
    clock.advance(0.02)
    assert transport.signals == ["KILL"]
    assert results == []  # killed, but not ended yet
    proto.processExited(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    assert results == []
    proto.processEnded(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    [failure] = results
    assert isinstance(failure.value, ExecPluginTimeout)
    assert str(failure.value) == "t took longer than 10 s and was killed"
    assert clock.getDelayedCalls() == []


def test_fake_deadline_is_cancelled_when_the_child_ends() -> None:
    clock, proto, transport, results = fake_run()
    proto.outReceived(b"caf\xc3")
    proto.outReceived(b"\xa9\r\nsecond")
    assert results == []
    proto.processEnded(Failure(ProcessDone(0)))
    assert results == [["café", "second"]]
    assert clock.getDelayedCalls() == []
    clock.advance(100)
    assert transport.signals == []


def test_fake_timeout_wins_over_a_clean_exit_after_the_kill() -> None:
    clock, proto, _transport, results = fake_run({"timeout": 1.0})
    proto.outReceived(b"late\n")
    clock.advance(1)
    proto.processEnded(Failure(ProcessDone(0)))  # it exited just as KILL was sent
    assert isinstance(results[0].value, ExecPluginTimeout)


def test_fake_output_over_the_limit() -> None:
    clock, proto, transport, results = fake_run({"max_output": 10})
    proto.outReceived(b"12345")
    proto.outReceived(b"67890")
    assert transport.signals == []
    proto.outReceived(b"x")
    assert transport.signals == ["KILL"] and results == []
    proto.outReceived(b"more")  # still arriving: ignored, no second kill
    assert transport.signals == ["KILL"]
    clock.advance(60)  # the deadline was cancelled by the kill
    assert transport.signals == ["KILL"]
    proto.processEnded(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    assert str(results[0].value) == "t wrote more than 10 bytes"


def test_fake_cancel() -> None:
    clock, proto, transport, results = fake_run()
    d = proto.deferred
    d.cancel()
    assert transport.signals == ["KILL"] and results == []
    d.cancel()
    proto.processEnded(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    assert isinstance(results[0].value, CancelledError)
    assert clock.getDelayedCalls() == []


def test_fake_cancel_after_the_deadline_still_gives_cancelled() -> None:
    clock, proto, transport, results = fake_run({"timeout": 1.0})
    clock.advance(2)
    proto.deferred.cancel()
    assert transport.signals == ["KILL"]  # killed once
    proto.processEnded(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    assert isinstance(results[0].value, CancelledError)


def test_fake_status_texts() -> None:
    for reason, text in [
        (ProcessTerminated(2, None, 512), "t exited with status 2"),
        (ProcessTerminated(None, signal.SIGSEGV, 11), "t was killed by signal SIGSEGV"),
        (ProcessTerminated(None, 99, 99), "t was killed by signal 99"),
        (ProcessTerminated(None, None, None), "t ended with an unknown status"),
    ]:
        _clock, proto, _transport, results = fake_run()
        proto.processEnded(Failure(reason))
        assert type(results[0].value) is ExecPluginError
        assert str(results[0].value) == text


def test_fake_spawn_error_fails_at_once_without_a_timer() -> None:
    clock = MemoryReactorClock()

    def refuse(*args: Any, **kw: Any) -> Any:
        raise PermissionError(13, "cannot spawn 'x': denied", "x")

    clock.spawnProcess = refuse  # type: ignore[method-assign]
    results: list[Any] = []
    ExecPlugin("t", ["x"], clock).run(REQUEST).addBoth(results.append)
    assert str(results[0].value) == "t: cannot run x: Permission denied"
    assert clock.getDelayedCalls() == []


def test_environment_without_path_or_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATH", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    env = ExecPlugin("t", ["x"], MemoryReactorClock()).child_env({"command": "t"})
    assert env == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LOGBOT_COMMAND": "t",
        "LOGBOT_ARGS": "",
        "LOGBOT_NICK": "",
        "LOGBOT_CHANNEL": "",
        "LOGBOT_ACCOUNT": "",
        "LOGBOT_NETWORK": "",
    }


def test_constructor_checks() -> None:
    clock = MemoryReactorClock()
    with pytest.raises(ValueError):
        ExecPlugin("t", [], clock)
    with pytest.raises(ValueError):
        ExecPlugin("t", ["a\0b"], clock)
    with pytest.raises(ValueError):
        ExecPlugin("t", ["x"], clock, timeout=0)
    with pytest.raises(ValueError):
        ExecPlugin("t", ["x"], clock, env={"A=B": "x"})
    p = ExecPlugin("t", ["x"], clock, help="h", usage="u", admin=True, env={"V": "a\0b"})
    assert (p.help, p.usage, p.admin, p.env) == ("h", "u", True, {"V": "ab"})


# -- discovery and headers ------------------------------------------------------------------


def make(path: Path, text: str = "#!/bin/sh\n", mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_find_exec_plugins(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    make(first / "exec.d" / "roll.sh")
    make(first / "exec.d" / "Weather.py")
    make(first / "exec.d" / "noexec.sh", mode=0o644)
    make(first / "exec.d" / ".hidden.sh")
    make(first / "exec.d" / "backup.sh~")
    make(first / "exec.d" / "bad name.sh")
    make(first / "exec.d" / "_under.sh")
    (first / "exec.d" / "adir.d").mkdir()
    make(first / "notd" / "ignored.sh")
    make(first / "top.sh")  # not in a *.d directory
    make(first / "more.d" / "roll.py")  # same name, later .d: loses to exec.d
    make(first / "more.d" / "fortune")
    make(second / "exec.d" / "roll.sh")  # later directory: loses
    make(second / "exec.d" / "seen.sh")
    (second / "x.d").write_text("a file, not a directory")
    os.symlink(first / "exec.d" / "roll.sh", first / "more.d" / "linked.sh")
    found = find_exec_plugins([first, str(second), tmp_path / "missing"])
    assert found == {
        "fortune": first / "more.d" / "fortune",
        "linked": first / "more.d" / "linked.sh",
        "roll": first / "exec.d" / "roll.sh",
        "seen": second / "exec.d" / "seen.sh",
        "weather": first / "exec.d" / "Weather.py",
    }
    assert list(found) == sorted(found)
    warned = " ".join(exec_warnings(caplog))
    assert "bad name" in warned and "_under" in warned
    assert find_exec_plugins([second, first])["roll"] == second / "exec.d" / "roll.sh"


def test_read_exec_header(tmp_path: Path) -> None:
    script = make(
        tmp_path / "a.sh",
        "#!/bin/sh\n# help: says hello\n#usage:  [name] \n"
        "# help: a second help line is ignored\necho hi\n",
    )
    assert read_exec_header(script) == ("says hello", "[name]")
    late = make(tmp_path / "late.sh", "#!/bin/sh\n" + "#\n" * 19 + "# help: too late\n")
    assert read_exec_header(late) == ("", "")
    far = make(tmp_path / "far.sh", "#!/bin/sh\n# " + "x" * 5000 + "\n# help: far\n")
    assert read_exec_header(far) == ("", "")
    cut = make(tmp_path / "cut.sh", "# usage: <x>\n# help: " + "y" * 5000 + "\n")
    assert read_exec_header(cut) == ("", "<x>")  # the cut line is not taken
    binary = tmp_path / "bin"
    binary.write_bytes(b"\x7fELF\0\0# help: no\n")
    assert read_exec_header(binary) == ("", "")
    assert read_exec_header(tmp_path / "missing") == ("", "")
    assert read_exec_header(tmp_path) == ("", "")
    assert read_exec_header(make(tmp_path / "none.sh")) == ("", "")


def test_module_limits_are_named() -> None:
    assert execmod.STDERR_LINES == 100
    assert set(execmod.REQUEST_KEYS) == set(REQUEST)
    assert stat.S_IMODE(ROLL.stat().st_mode) & 0o111
