"""``python -m logbot ...`` as a child process while the test's reactor runs a server.

The test IRC servers live on the test's reactor, in this process, so a test cannot
block in ``subprocess.run``: :func:`run_logbot` starts the child with its output in
files and runs the reactor until the child has exited (``wait_for_log`` polls every
20 ms, with a deadline that fails the test).  ``start_logbot`` leaves it running (for
``logbot run``): the test waits on its stderr, then stops it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.botproc import REPO, wait_for_log

_CLEARED = ("LOGBOT_CONFIG", "LOGBOT_LOG_LEVEL", "LOGBOT_HEALTH_PORT", "LOGBOT_HEALTH_HOST")


@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path

    @property
    def out(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(errors="replace")

    def terminate(self, reactor: Any, run_until: Any, timeout: float = 10.0) -> int:
        """SIGTERM, and the reactor runs (the server answers the bot's QUIT) until the
        child exits; its exit status."""
        self.proc.terminate()
        return int(
            run_until(
                wait_for_log(reactor, self.proc.poll, lambda rc: rc is not None, timeout, "exit"),
                timeout + 5,
            )
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_logbot(workdir: Path, args: list[str], env: dict[str, str] | None = None) -> Child:
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    full_env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **(env or {}))
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "logbot", *args],
            cwd=workdir,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return Child(proc, out_path, err_path)


def run_logbot(
    reactor: Any,
    run_until: Any,
    workdir: Path,
    args: list[str],
    env: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> Child:
    """Run ``logbot args`` to its end while the reactor serves; the finished child."""
    child = start_logbot(workdir, args, env)
    try:
        run_until(
            wait_for_log(reactor, child.proc.poll, lambda rc: rc is not None, timeout, "the exit"),
            timeout + 5,
        )
    finally:
        child.stop()
    return child
