"""``logbot run`` given server-time stamps far from its clock: no line lost, no file pinned.

Issue 14, item 9: one line stamped 2999-01-01 sent every later line of its channel to
``2999-01-01.log``, and one stamped 9999-12-31 raised ``OverflowError`` (the line was
lost).  Our test IRC server runs in this process on the test's reactor; its wall clock
(which makes the ``time`` tag of every line it sends) is injected, so a simulated user's
line goes out stamped in 2999, 9999 or 1970 while the bot, a real child process, keeps
its own clock.  The files are real.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from tests.e2e.botproc import BotProcess, wait_for_log

STAMPS = {  # text of the line -> the server-time it is sent with
    "from 2999": datetime(2999, 1, 1, tzinfo=UTC).timestamp(),
    "from 9999": datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp(),
    "from 1970": 0.0,
}
NORMAL = [f"normal {i}" for i in range(3)]


class ServerClock:
    """The test server's wall clock: the real time, or a stamp set for one line."""

    def __init__(self) -> None:
        self.fixed: float | None = None

    def __call__(self) -> float:
        return time.time() if self.fixed is None else self.fixed


@pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
def test_far_stamps_are_logged_at_the_local_time_and_normal_lines_go_to_todays_file(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    clock = ServerClock()
    server = TestIRCServer(reactor, network="stamps", wall=clock)
    server.start()
    chan = "#stamps"
    bot = BotProcess(tmp_path, server, "logbot", [chan], extra={"line_rate": 0})
    alice = server.add_user("alice")
    alice.join(chan)
    today = datetime.now(UTC).date().isoformat()
    try:
        bot.start()
        run_until(
            wait_for_log(
                reactor,
                lambda: [u.nickname for u in server.channels[chan].users],
                lambda nicks: "logbot" in nicks,
                what="the bot in the channel",
            )
        )
        for text, stamp in STAMPS.items():
            clock.fixed = stamp
            alice.say(chan, text)
        clock.fixed = None
        for text in NORMAL:
            alice.say(chan, text)
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: NORMAL[-1] in t))
        assert bot.terminate(10) == 0
    finally:
        bot.stop_quietly()
        run_until(server.stop())
    end = datetime.now(UTC).date().isoformat()
    names = sorted(p.name for p in bot.channel_dir(chan).iterdir())
    assert names in ([f"{today}.jsonl", f"{today}.log"], [f"{end}.jsonl", f"{end}.log"]), names
    said = [line for line in bot.text_lines(chan) if line.startswith("<alice> ")]
    assert said == [f"<alice> {text}" for text in [*STAMPS, *NORMAL]]
    for line in bot.raw(chan).splitlines():  # every text stamp is today's (UTC, the default)
        assert line[:10] in (today, end), line
    records = {r["text"]: r for r in bot.jsonl(chan) if r["type"] == "message"}
    assert list(records) == [*STAMPS, *NORMAL]
    for text, why in (("from 2999", "ahead"), ("from 9999", "invalid"), ("from 1970", "behind")):
        record = records[text]
        assert record["time_source"] == "local"
        assert record["server_time"] == record["tags"]["time"]
        assert record["server_time"][:4] == text[-4:]
        assert record["server_time_rejected"] == why
    for text in NORMAL:
        assert records[text]["time_source"] == "server"
        assert "server_time" not in records[text]
    stderr = bot.stderr()
    assert "could not log" not in stderr and "Traceback" not in stderr
    assert stderr.count("untrusted server-time stamps") == 1, stderr  # once for the network
