"""``logbot run``'s children die with it, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from logbot.cli.parent_watch import PARENT_ENV, die_with_parent

REPO = Path(__file__).resolve().parents[2]


def test_nothing_is_done_without_the_variable() -> None:
    die_with_parent({})  # returns: a process not started by logbot run


def test_a_parent_already_gone_means_exit_at_once() -> None:
    with pytest.raises(SystemExit) as caught:
        die_with_parent({PARENT_ENV: str(os.getppid() + 100000)})
    assert caught.value.code == 0


def test_the_child_gets_sigterm_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A middle process (the bot's place) starts a child that asks for the signal,
    tells us the child's pid, and is then SIGKILLed: the child ends by itself."""
    child = textwrap.dedent(
        f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from logbot.cli.parent_watch import die_with_parent
        die_with_parent()
        print("ready", flush=True)
        signal.pause()
        """
    )
    middle = textwrap.dedent(
        f"""
        import os, subprocess, sys
        env = dict(os.environ, {PARENT_ENV}=str(os.getpid()))
        p = subprocess.Popen([sys.executable, "-c", {child!r}], env=env, stdout=subprocess.PIPE)
        assert p.stdout.readline() == b"ready\\n"
        print(p.pid, flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", middle], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    assert Path(f"/proc/{pid}").exists()
    proc.kill()
    proc.wait(10)
    # the child's end: its pidfd becomes readable when it exits (no polling loop)
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # already gone
    try:
        import select

        readable, _, _ = select.select([fd], [], [], 10)
        assert readable, "the child outlived its parent"
    finally:
        os.close(fd)
