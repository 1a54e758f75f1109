"""``logbot run`` through a netsplit and netjoin, a standard reply and a channel
rename, on the test IRC server (logbot.testing.ircd_events: Ergo renames channels, but
is not in Debian; no server links here, so the test says when the split happens).

One bot, real files: the netsplit and netjoin are one text line each and every QUIT
and JOIN in the jsonl; a FAIL is on stderr with the network; after the RENAME the log
goes on under the new name with the channel's options, and after the server restarts
the bot joins the new name, not the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from logbot.testing.ircd_events import netjoin, netsplit, standard_reply
from tests.e2e.botproc import BotProcess, wait_for_log

SPLIT = "irc.hub.test <-> irc.leaf.test"


def members(server: TestIRCServer, chan: str) -> list[str]:
    channel = server.channels.get(chan.lower())
    return [] if channel is None else [u.nickname or "" for u in channel.users]


@pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
def test_netsplit_reply_and_rename_end_to_end(reactor: Any, run_until: Any, tmp_path: Path) -> None:
    server = TestIRCServer(reactor, network="events")
    server.start()
    alice, bob, carol = (server.add_user(n) for n in ("alice", "bob", "carol"))
    for user in (alice, bob, carol):
        user.join("#chan")  # alice first: an op, who may rename it
    chan = {"name": "#chan", "logging": {"nolog_prefix": "%%"}}
    bot = BotProcess(tmp_path, server, "logbot", [chan], network="events")

    def logged(name: str, line: str, what: str) -> None:
        run_until(wait_for_log(reactor, lambda: bot.text_lines(name), lambda t: line in t,
                               what=what))  # fmt: skip

    try:
        bot.start()
        run_until(wait_for_log(reactor, lambda: members(server, "#chan"),
                               lambda m: "logbot" in m, what="the bot in #chan"))  # fmt: skip
        split = netsplit(server, [bob, carol])
        logged("#chan", f"*** netsplit: {SPLIT}: bob, carol have quit", "the netsplit line")
        netjoin(server, split)
        logged("#chan", f"*** netjoin: {SPLIT}: bob, carol have come back", "the netjoin line")

        (conn,) = server.clients
        standard_reply(server, conn, "FAIL", "*", "TEST_CODE", "ctx", "testing\x1b[2J")
        run_until(wait_for_log(reactor, bot.stderr, lambda e: "TEST_CODE" in e,
                               what="the FAIL on stderr"))  # fmt: skip
        said = "ERROR logbot.bot.standard_replies: events: FAIL * TEST_CODE (ctx): testing"
        assert said + "\\x1b[2J" in bot.stderr()  # escaped: stderr is read in terminals

        alice.send("RENAME", "#chan", "#renamed", "tidy")
        alice.say("#renamed", "%% not for the log")  # #chan's nolog_prefix followed it
        alice.say("#renamed", "under the new name")
        logged("#renamed", "<alice> under the new name", "a line under the new name")

        run_until(server.stop())  # the server restarts: the bot reconnects
        server.start()
        back = "the bot back, in #renamed"
        run_until(wait_for_log(reactor, lambda: members(server, "#renamed"),
                               lambda m: "logbot" in m, what=back))  # fmt: skip
        assert "#chan" not in server.channels  # it never asked for the old name
        assert bot.terminate(10) == 0
    finally:
        bot.stop_quietly()
        run_until(server.stop())

    old = bot.text_lines("#chan")
    assert old[-1] == "*** #chan was renamed to #renamed by alice (tidy)"
    assert not any("has quit IRC" in line for line in old)  # the netsplit's QUITs: one line
    new = bot.text_lines("#renamed")
    assert new[:2] == ["*** #renamed was renamed from #chan by alice (tidy)",
                       "<alice> under the new name"]  # fmt: skip
    assert not any("not for the log" in line for line in new)
    rows = bot.jsonl("#chan")
    assert [(r["nick"], r.get("netsplit")) for r in rows if r["type"] == "quit"] == [
        ("bob", "irc.hub.test irc.leaf.test"),
        ("carol", "irc.hub.test irc.leaf.test"),
    ]
    joins = [r for r in rows if r["type"] == "join" and "netjoin" in r]
    assert [r["nick"] for r in joins] == ["bob", "carol"]
    assert all(r["tags"].get("batch") for r in joins)
    assert rows[-1]["type"] == "renamed_to" and rows[-1]["target"] == "#renamed"
    assert bot.jsonl("#renamed")[0]["type"] == "renamed_from"
