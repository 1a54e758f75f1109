"""Which message targets are channels: CHANTYPES, and STATUSMSG prefixes (not PREFIX).

ngircd sends ``PREFIX=(qaohv)~&@%+ CHANTYPES=#&+`` and no STATUSMSG: ``&`` and ``+``
start channel names there *and* are nick prefix symbols.  Taking the PREFIX symbols
for STATUSMSG prefixes made ``&local`` and ``+modeless`` nicks ("local",
"modeless"): every line there was a private message.  InspIRCd sends
``CHANTYPES=# STATUSMSG=@+``, where ``@#chan`` is a message to #chan's ops.

The core is sans-I/O: these tests feed it the bytes those servers send (copied from
them, see tests/e2e/test_chantypes.py for the same on a running ngircd).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.irc import events as ev
from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.isupport import ISupport

ME = "bot!~b@bot.host"
ALICE = "alice!~alice@127.0.0.1"
NGIRCD_005 = (
    ":irc.test.local 005 bot RFC2812 IRCD=ngIRCd CHARSET=UTF-8 CASEMAPPING=ascii "
    "PREFIX=(qaohv)~&@%+ CHANTYPES=#&+ CHANMODES=beI,k,l,imMnOPQRstVz CHANLIMIT=#&+:100 "
    ":are supported on this server"
)
INSPIRCD_005 = (
    ":irc.test.local 005 bot CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ STATUSMSG=@+ "
    ":are supported by this server"
)


def isupport(*tokens: str) -> ISupport:
    support = ISupport()
    support.apply(["bot", *tokens, "are supported"])
    return support


# -- ISupport ------------------------------------------------------------------------------


def test_before_005_the_rfc_channel_types_and_no_statusmsg() -> None:
    support = ISupport()
    assert support.chantypes == "#&" and support.statusmsg == ""
    assert [support.channel_of(t) for t in ("#a", "&a", "+a", "!a", "@#a", "a")] == [
        "#a",
        "&a",
        None,
        None,
        None,
        None,
    ]


def test_ngircd_ampersand_and_plus_are_channels_and_nothing_is_stripped() -> None:
    support = isupport("PREFIX=(qaohv)~&@%+", "CHANTYPES=#&+")
    assert support.channel_of("&local") == "&local"
    assert support.channel_of("+modeless") == "+modeless"
    assert support.channel_of("#c") == "#c"
    # No STATUSMSG: PREFIX symbols are not removed ("@#c" cannot be sent there: 401).
    assert support.channel_of("@#c") is None
    assert support.channel_of("~&x") is None
    assert support.channel_of("alice") is None
    assert support.channel_of("") is None
    assert support.is_channel("+modeless") and not support.is_channel("alice")


def test_statusmsg_prefixes_are_removed_and_nothing_else() -> None:
    support = isupport("CHANTYPES=#", "PREFIX=(qov)~@+", "STATUSMSG=@+")
    assert support.channel_of("@#c") == "#c"
    assert support.channel_of("+#c") == "#c"
    assert support.channel_of("@+#c") == "#c"
    assert support.channel_of("~#c") is None  # a PREFIX symbol, but not in STATUSMSG
    assert support.channel_of("@") is None
    assert support.channel_of("@alice") is None
    assert support.channel_of("&c") is None  # not a channel type on this server
    assert not support.is_channel("@#c")  # a channel *name* has no prefix


def test_a_target_starting_with_a_channel_type_is_that_channel() -> None:
    """Where a character is both (no known server does this), the name wins."""
    support = isupport("CHANTYPES=#&", "STATUSMSG=@&")
    assert support.channel_of("&c") == "&c"
    assert support.channel_of("&#c") == "&#c"
    assert support.channel_of("@&c") == "&c"


def test_an_empty_chantypes_means_no_channels_and_withdrawing_it_restores_the_default() -> None:
    support = isupport("CHANTYPES=", "STATUSMSG=@")
    assert support.chantypes == ""
    assert [support.channel_of(t) for t in ("#a", "&a", "@#a", "")] == [None] * 4
    support.apply(["bot", "-CHANTYPES", "-STATUSMSG", "x"])
    assert support.chantypes == "#&" and support.statusmsg == ""
    assert support.channel_of("&a") == "&a" and support.channel_of("@#a") is None


_NICK_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz[]\\`_^{|}"
_NICK_REST = _NICK_FIRST + "0123456789-"


@given(
    first=st.sampled_from(_NICK_FIRST),
    rest=st.text(alphabet=_NICK_REST, max_size=20),
    chantypes=st.sampled_from(["#&+", "#&+!", "#", "#&", ""]),
    statusmsg=st.sampled_from(["", "@+", "~&@%+", "@"]),
)
def test_no_nick_is_ever_a_channel(first: str, rest: str, chantypes: str, statusmsg: str) -> None:
    """RFC 2812 nicks start with a letter or one of ``[]\\`_^{|}``: never with a
    CHANTYPES or STATUSMSG character, so a target is a nick or a channel, never both."""
    support = isupport(f"CHANTYPES={chantypes}", f"STATUSMSG={statusmsg}")
    assert support.channel_of(first + rest) is None


# -- the events, on each of the core's paths ------------------------------------------------


def connection(isupport_line: str, fast: bool) -> IRCConnection:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    if fast:  # no RawMessage wanted for PRIVMSG/NOTICE: the one-step path
        conn.set_raw_filter(lambda command: False)
    conn.data_to_send(0.0)
    feed(conn, ":srv CAP * LS :server-time", ":srv CAP * ACK :server-time")
    feed(conn, f":srv 001 bot :Welcome {ME}", isupport_line, ":srv 376 bot :End of MOTD")
    conn.data_to_send(0.0)
    return conn


def feed(conn: IRCConnection, *lines: str) -> list[ev.Event]:
    data = "".join(line + "\r\n" for line in lines).encode()
    return [e for e in conn.receive_data(data, 0.0) if not isinstance(e, ev.RawMessage)]


def spoken(events: list[ev.Event]) -> list[tuple[str, str, bool]]:
    return [(type(e).__name__, e.target, e.private) for e in events if isinstance(e, ev.Privmsg)]


@pytest.mark.parametrize("fast", [True, False], ids=["one-step", "general"])
def test_ngircd_messages_in_ampersand_and_plus_channels_are_not_private(fast: bool) -> None:
    conn = connection(NGIRCD_005, fast)
    events = feed(
        conn,
        f":{ALICE} PRIVMSG &local :hello",
        f"@time=2026-11-27T10:00:00.000Z :{ALICE} PRIVMSG +modeless :tagged",
        f":{ALICE} NOTICE +modeless :a notice",
        f":{ALICE}  PRIVMSG  &local  :spaced",  # not the servers' shape: the general way
        f":{ALICE} PRIVMSG &local :\x01ACTION waves\x01",
        f":{ALICE} PRIVMSG bot :private",
        f":{ALICE} PRIVMSG +modeless",  # no text: no event
    )
    assert spoken(events) == [
        ("Privmsg", "&local", False),
        ("Privmsg", "+modeless", False),
        ("Notice", "+modeless", False),
        ("Privmsg", "&local", False),
        ("Action", "&local", False),
        ("Privmsg", "bot", True),
    ]


def test_our_own_lines_to_ampersand_and_plus_channels_are_not_private() -> None:
    conn = connection(NGIRCD_005, fast=True)
    conn.privmsg("&local", "mine")
    conn.privmsg("+modeless", "\x01ACTION also\x01")
    conn.privmsg("alice", "to you")
    conn.data_to_send(0.0)  # sent: no echo-message, so the core makes their events
    assert spoken(conn.pop_events()) == [
        ("Privmsg", "&local", False),
        ("Action", "+modeless", False),
        ("Privmsg", "alice", True),
    ]


@pytest.mark.parametrize("fast", [True, False], ids=["one-step", "general"])
def test_statusmsg_targets_are_channel_messages_keeping_their_target(fast: bool) -> None:
    conn = connection(INSPIRCD_005, fast)
    events = feed(
        conn,
        f":{ALICE} PRIVMSG @#c :ops only",
        f":{ALICE} NOTICE +#c :voiced only",
        f":{ALICE} PRIVMSG @#c :\x01ACTION whispers\x01",
        f":{ALICE} PRIVMSG &c :not a channel here",
    )
    assert spoken(events) == [
        ("Privmsg", "@#c", False),
        ("Notice", "+#c", False),
        ("Action", "@#c", False),
        ("Privmsg", "&c", True),
    ]


def test_before_005_the_rfc_types_hold() -> None:
    conn = IRCConnection("bot", flood=FloodControl(enabled=False))
    conn.connection_made(0.0)
    conn.data_to_send(0.0)
    events = feed(
        conn,
        f":srv 001 bot :Welcome {ME}",
        f":{ALICE} PRIVMSG &a :rfc local channel",
        f":{ALICE} PRIVMSG +a :no CHANTYPES yet",
    )
    assert spoken(events) == [("Privmsg", "&a", False), ("Privmsg", "+a", True)]
    events = feed(conn, ":srv 005 bot CHANTYPES=#&+ :are supported", f":{ALICE} PRIVMSG +a :now")
    assert spoken(events) == [("Privmsg", "+a", False)]
