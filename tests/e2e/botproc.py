"""``logbot run`` as a real child process, for the end-to-end tests.

``BotProcess`` writes a YAML config for one network on a test IRC server,
starts ``python -m logbot run -c <config>`` with stderr kept in a file, and
reads back the log files.  ``wait_for_log`` polls a log file from the test's
reactor (every 20 ms, with a deadline) until a predicate holds: the bot is a
separate process, so its files are the only way to see what it has done.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from logbot.reactor import defer
from logbot.reactor.task import LoopingCall

REPO = Path(__file__).resolve().parents[2]
#: A line of the default text layout (Limnoria's): local time without an offset, two
#: spaces, the body.
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)  (\S.*)$")


class BotProcess:
    def __init__(
        self,
        workdir: Path,
        server: Any,
        nick: str,
        channels: list[Any],
        *,
        network: str = "local",
        logging: dict[str, Any] | None = None,
        backend: str = "auto",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.server = server
        self.nick = nick
        self.network = network
        self.root = self.workdir / "logs"
        self.config_path = self.workdir / "config.yaml"
        self.stderr_path = self.workdir / "bot.stderr"
        net: dict[str, Any] = {
            "name": network,
            "servers": [f"{server.host}:{server.port}"],
            "nick": nick,
            "channels": channels,
            "reconnect": {"initial_delay": 0.2, "max_delay": 1.0, "factor": 2, "jitter": 0},
            # No flood control: the test servers' own limits are off, and these tests are
            # about what is logged, not about pacing (tests/integration has the flood
            # tests against InspIRCd's real limits); with the default 1 line/s a reply
            # of a few lines cost seconds of waiting per test.
            "line_rate": 0,
        }
        net.update(extra or {})
        self.config: dict[str, Any] = {
            "reactor": backend,
            "logging": {"root": str(self.root), **(logging or {})},
            "networks": [net],
        }
        self.proc: subprocess.Popen[bytes] | None = None
        # Runs in the child before exec (``resource.setrlimit`` for a low ``ulimit -n``).
        self.preexec_fn: Callable[[], None] | None = None

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        return self.config_path

    def start(self, *args: str) -> BotProcess:
        """Start ``logbot run -c <config>``, with ``args`` after it (``--health-port 9100``)."""
        self.write_config()
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        for name in ("LOGBOT_CONFIG", "LOGBOT_HEALTH_PORT", "LOGBOT_HEALTH_HOST"):
            env.pop(name, None)
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "logbot",
                    "--log-level",
                    "debug",
                    "run",
                    "-c",
                    str(self.config_path),
                    *args,
                ],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                preexec_fn=self.preexec_fn,
            )
        return self

    def start_seen_by(
        self,
        run_until: Any,
        peer: Any,
        channels: list[str],
        timeout: float = 20,
        args: tuple[str, ...] = (),
    ) -> None:
        """``peer`` joins ``channels``, the bot starts (with ``args``, as :meth:`start`),
        and this returns once ``peer`` saw the bot join each of them."""
        for chan in channels:
            peer.send(f"JOIN {chan}")
        self.start(*args)
        for chan in channels:
            self.seen_joining(run_until, peer, chan, timeout)

    def seen_joining(self, run_until: Any, peer: Any, chan: str, timeout: float = 20) -> str:
        """Waits until ``peer`` sees the bot join ``chan``; the JOIN line."""
        return run_until(peer.expect(rf":{self.nick}!\S+ JOIN :?{re.escape(chan)}", timeout))

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; the exit status."""
        self.signal(signal.SIGTERM)
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(10)

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    # -- the logs ---------------------------------------------------------------------

    def channel_dir(self, channel: str) -> Path:
        return self.root / self.network / channel.lower()

    def files(self, channel: str, suffix: str) -> list[Path]:
        folder = self.channel_dir(channel)
        return sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []

    def raw(self, channel: str, suffix: str = ".log") -> str:
        return "".join(p.read_text(errors="replace") for p in self.files(channel, suffix))

    def text_lines(self, channel: str) -> list[str]:
        """The text log's lines without their timestamps (each checked)."""
        out = []
        for line in self.raw(channel).splitlines():
            match = STAMP.match(line)
            assert match, f"line without the default layout's timestamp: {line!r}"
            out.append(match.group(2))
        return out

    def jsonl(self, channel: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw(channel, ".jsonl").splitlines()]


def wait_for_log(
    reactor: Any,
    read: Callable[[], Any],
    predicate: Callable[[Any], bool],
    timeout: float = 15.0,
    what: str = "the log",
) -> defer.Deferred[Any]:
    """Fires with ``read()`` once ``predicate(read())`` holds; fails after ``timeout``."""
    d: defer.Deferred[Any] = defer.Deferred()
    start = reactor.seconds()
    last: list[Any] = [None]

    def check() -> None:
        value = read()
        last[0] = value
        if predicate(value):
            loop.stop()
            d.callback(value)
        elif reactor.seconds() - start > timeout:
            loop.stop()
            shown = value if not isinstance(value, list) else value[-15:]
            d.errback(AssertionError(f"{what}: not there after {timeout} s; last read: {shown!r}"))

    loop = LoopingCall(check)
    loop.clock = reactor
    loop.start(0.02)
    return d
