"""``logbot run`` under a low open-file limit (``ulimit -n``) with ``max_open_files`` set
far above it, logging 100 channels (200 files): every line of every channel is logged.

Issue 14: with ``max_open_files`` above the limit, opens failed with ``EMFILE`` and
half the channels were never logged, their lines pending for ever.  The child gets
its limit from ``resource.setrlimit`` before exec (as ``ulimit -n`` would), the users
are simulated by our test IRC server (in this process, on the test's reactor), the
files are real.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from logbot.testing.ircd_commands import fold
from tests.e2e.botproc import BotProcess, wait_for_log

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
CHANNELS = [f"#fd{i:03d}" for i in range(100)]
ROUNDS = 3
LOW = 64  # soft limit: 200 log files cannot all be open under it


def _limit(soft: int, hard: int) -> Callable[[], None]:
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return preexec


def _bot_in(server: TestIRCServer, nick: str) -> int:
    """In how many of the test's channels the bot is now."""
    count = 0
    for name in CHANNELS:
        channel = server.channels.get(fold(name))
        if channel is not None and any(u.nickname == nick for u in channel.users):
            count += 1
    return count


def _said(bot: BotProcess, channel: str) -> list[str]:
    return [line for line in bot.text_lines(channel) if line.startswith("<alice> ")]


@ONE_REACTOR
@pytest.mark.parametrize(
    "hard",
    [
        pytest.param(None, id="soft-limit-raised"),  # hard limit as this process has it
        pytest.param(LOW, id="hard-limit-low-clamped"),  # nothing to raise: clamp + LRU
    ],
)
def test_every_channel_logged_under_a_low_open_file_limit(
    reactor: Any, run_until: Any, tmp_path: Path, hard: int | None
) -> None:
    hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1] if hard is None else hard
    server = TestIRCServer(reactor, network="fdtest")
    server.start()
    nick = "logbot"
    bot = BotProcess(
        tmp_path,
        server,
        nick,
        list(CHANNELS),
        logging={"max_open_files": 10000},
        extra={"line_rate": 0},
    )
    bot.preexec_fn = _limit(LOW, hard_limit)
    alice = server.add_user("alice")
    try:
        bot.start()
        run_until(
            wait_for_log(
                reactor,
                lambda: _bot_in(server, nick),
                lambda n: n == len(CHANNELS),
                timeout=30,
                what="the bot in every channel",
            ),
            timeout=40,
        )
        for name in CHANNELS:
            alice.join(name)
        for r in range(ROUNDS):
            for name in CHANNELS:  # round robin: each line in another file than the last
                alice.say(name, f"line {r} in {name}")
        last = f"line {ROUNDS - 1} in "
        run_until(
            wait_for_log(
                reactor,
                lambda: [c for c in CHANNELS if last + c not in bot.raw(c)],
                lambda missing: not missing,
                timeout=30,
                what="every channel's last line",
            ),
            timeout=40,
        )
        assert bot.terminate(10) == 0
    finally:
        bot.stop_quietly()
        run_until(server.stop())
    want = {c: [f"<alice> line {r} in {c}" for r in range(ROUNDS)] for c in CHANNELS}
    assert {c: _said(bot, c) for c in CHANNELS} == want
    for c in CHANNELS:
        spoken = [r["text"] for r in bot.jsonl(c) if r["type"] == "message"]
        assert spoken == [f"line {r} in {c}" for r in range(ROUNDS)], c
    stderr = bot.stderr()
    assert "Too many open files" not in stderr
    assert "could not be written" not in stderr
    if hard is None:  # raised: every file fits, no clamp
        assert "open-file limit raised: soft 10128" in stderr
        assert "max_open_files is 10000 but" not in stderr
    else:  # nothing to raise: clamped, one warning naming both numbers
        assert stderr.count("max_open_files is 10000 but") == 1
        assert "leaves room for 32" in stderr
