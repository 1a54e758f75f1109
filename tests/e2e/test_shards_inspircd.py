"""``logbot run`` with more channels than one connection may join, against InspIRCd with
a channel limit of 3 (logbot.bot.shards).

With CHANLIMIT said truly (``#:3``), 8 channels go over 3 connections opened one after
the other, each line said in a channel is logged exactly once, in that channel's file
only, a user in channels of all three connections quits once in each, and a command
said in a channel of the second connection is answered by that connection.

With CHANLIMIT said falsely (``#:100``, the server still refusing past 3 with 405),
the refused channels move to a further connection, and past ``max_connections`` the
rest are named in one warning.

Peers are on the same server and so under the same limit: three of them share the
channels.  Nothing sleeps: every wait is for a line or a file, with a deadline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect_all

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def _joined_by(run_until: Any, peer: Any, nick: str, chan: str) -> str:
    """Waits until ``peer`` sees one of the bot's connections (``nick``, ``nick2``...)
    join ``chan``; that connection's nick."""
    line = run_until(peer.expect(rf":{nick}\d*!\S+ JOIN :?{re.escape(chan)}\b", 20))
    return str(line[1:].split("!", 1)[0])


def test_eight_channels_over_three_connections_each_line_logged_once(
    ircd_factory: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = ircd_factory("inspircd", max_channels=3)
    base = unique("sh")
    chans = [f"#{base}-{i}" for i in range(1, 9)]
    nick = unique("lb")
    peers = run_until(connect_all(reactor, server, [unique("pa"), unique("pb"), unique("pc")]))
    # Each peer in at most 3 channels, in those of every connection (3 + 3 + 2, in order).
    theirs = [chans[0::3], chans[1::3], chans[2::3]]
    bot = BotProcess(tmp_path, server, nick, chans)
    try:
        for peer, mine in zip(peers, theirs, strict=True):
            peer.send(f"JOIN {','.join(mine)}")
            run_until(peer.expect(rf"JOIN :?{re.escape(mine[-1])}\b"))
        bot.start()
        holder = {}
        for peer, mine in zip(peers, theirs, strict=True):
            for chan in mine:
                holder[chan] = _joined_by(run_until, peer, nick, chan)
        assert sorted(holder.values()) == sorted([nick] * 3 + [f"{nick}2"] * 3 + [f"{nick}3"] * 2)
        for peer, mine in zip(peers, theirs, strict=True):
            for chan in mine:
                peer.send(f"PRIVMSG {chan} :line for {chan}")
        for chan in chans:
            said = f"line for {chan}"
            run_until(wait_for_log(reactor, lambda c=chan: bot.raw(c), lambda t, s=said: s in t))
        # A command in a channel of the second connection: answered by that connection.
        second = next(c for c in theirs[0] if holder[c] == f"{nick}2")
        peers[0].send(f"PRIVMSG {second} :!ping")
        run_until(peers[0].expect(rf":{nick}2!\S+ PRIVMSG {re.escape(second)} :.*pong", 10))
        # The first peer is in channels of all three connections: one quit in each.
        run_until(peers[0].quit("off now"))
        for chan in theirs[0]:
            run_until(wait_for_log(reactor, lambda c=chan: bot.raw(c), lambda t: "off now" in t))
        assert bot.terminate(10) == 0
    finally:
        bot.stop_quietly()
        for peer in peers:
            peer.abort()
    for chan in chans:
        text = bot.raw(chan)
        assert text.count(f"line for {chan}") == 1, (chan, text)
        assert [c for c in chans if c != chan and f"line for {c}\n" in text] == []
        assert text.count("off now") == (1 if chan in theirs[0] else 0), (chan, text)
    assert set((tmp_path / "logs").iterdir()) == {tmp_path / "logs" / "local"}  # one network
    err = bot.stderr()
    assert "local: opening connection 2 (of at most 10)" in err
    assert "local: opening connection 3 (of at most 10)" in err
    assert "opening connection 4" not in err and " 405 " not in err


def test_refused_joins_move_on_and_stop_at_max_connections(
    ircd_factory: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = ircd_factory("inspircd", max_channels=3, chanlimit=100)  # says 100, holds 3
    base = unique("rf")
    chans = [f"#{base}-{i}" for i in range(1, 9)]
    nick = unique("lb")
    (peer,) = run_until(connect_all(reactor, server, [unique("pd")]))
    bot = BotProcess(tmp_path, server, nick, chans, extra={"max_connections": 2})
    try:
        bot.start()
        warned = run_until(
            wait_for_log(reactor, bot.stderr, lambda t: "local: not joined: " in t, 20, "stderr")
        )
        # 3 on the first connection, 3 moved to the second, 2 left over
        line = next(x for x in warned.splitlines() if "local: not joined: " in x)
        left = line.split("not joined: ", 1)[1].split(": every connection", 1)[0].split(", ")
        assert len(left) == 2 and set(left) <= set(chans), line
        assert "max_connections (2) are open; retrying every 10 s" in line
        moved = [c for c in chans[3:] if c not in left]
        for chan in moved:  # joined by the second connection (said at the end of NAMES)
            run_until(
                wait_for_log(reactor, bot.stderr, lambda t, c=chan: f"local[2]: joined {c} " in t)
            )
        peer.send(f"JOIN {','.join(moved)}")
        run_until(peer.expect(rf"JOIN :?{re.escape(moved[-1])}\b"))
        for chan in moved:
            peer.send(f"PRIVMSG {chan} :moved {chan}")
        for chan in moved:
            said = f"moved {chan}"
            run_until(wait_for_log(reactor, lambda c=chan: bot.raw(c), lambda t, s=said: s in t))
        assert bot.terminate(10) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    err = bot.stderr()
    assert "opening connection 3" not in err
    assert err.count("local: not joined: ") == 1
    for chan in moved:
        assert bot.raw(chan).count(f"moved {chan}") == 1
