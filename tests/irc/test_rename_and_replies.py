"""The core's side of IRCv3 ``draft/channel-rename`` (RENAME moves what we know of a
channel) and standard replies (FAIL, WARN, NOTE become events), and that both
capabilities are asked for."""

from __future__ import annotations

from logbot.irc import events as ev
from tests.irc.test_core import feed, make, registered, sent

T = "@time=2026-12-06T05:00:00.000Z"


def in_two_channels() -> object:
    conn = registered()
    feed(
        conn,
        ":bot!~b@bot.host JOIN #old",
        ":srv 353 bot = #old :bot @alice bob",
        ":srv 366 bot #old :End",
        ":bot!~b@bot.host JOIN #other",
        ":srv 353 bot = #other :bot alice",
        ":srv 366 bot #other :End",
    )
    return conn


def test_both_capabilities_are_requested_when_offered() -> None:
    conn = make()
    sent(conn)
    feed(conn, ":srv CAP * LS :batch draft/channel-rename standard-replies x/unknown")
    assert sent(conn) == ["CAP REQ :batch draft/channel-rename standard-replies"]


def test_a_rename_moves_the_channel_its_members_and_modes() -> None:
    conn = in_two_channels()
    state = conn.state  # type: ignore[attr-defined]
    (event,) = feed(conn, f"{T} :alice!a@h RENAME #old #New :a better name")
    assert isinstance(event, ev.ChannelRenamed)
    assert (event.old, event.new, event.source, event.reason) == (
        "#old",
        "#New",
        "alice!a@h",
        "a better name",
    )
    assert event.time is not None
    assert state.channel("#old") is None
    channel = state.channel("#new")
    assert channel.name == "#New" and channel.members == {
        "bot": set(),
        "alice": {"o"},
        "bob": set(),
    }
    assert state.user("alice").channels == {"#new", "#other"}
    assert state.user("bob").channels == {"#new"}
    assert state.shared_channels("alice") == ("#New", "#other")
    # Lines to the new name are the channel's; a QUIT names it.
    (quit_,) = feed(conn, ":bob!b@h QUIT :bye")
    assert quit_.channels == ("#New",)  # type: ignore[attr-defined]


def test_an_empty_reason_is_none_and_a_case_change_is_a_rename() -> None:
    conn = in_two_channels()
    (event,) = feed(conn, ":alice!a@h RENAME #old #OLD :")
    assert isinstance(event, ev.ChannelRenamed) and event.reason is None
    assert conn.state.channel("#old").name == "#OLD"  # type: ignore[attr-defined]


def test_renames_that_cannot_be_are_ignored() -> None:
    conn = in_two_channels()
    state = conn.state  # type: ignore[attr-defined]
    assert feed(conn, ":alice!a@h RENAME #notours #new :x") == []
    assert feed(conn, ":alice!a@h RENAME #old nochannel :x") == []  # no CHANTYPES
    assert feed(conn, ":alice!a@h RENAME #old #a,b :x") == []  # would split a JOIN
    assert feed(conn, ":alice!a@h RENAME #old") == []  # too few parameters
    assert state.channel("#old") is not None and state.channel("#new") is None


def test_a_rename_onto_a_channel_still_tracked_drops_the_stale_one() -> None:
    """We missed leaving #other (the server renamed #old onto its name): the stale
    channel goes, and the users only it held with it."""
    conn = in_two_channels()
    state = conn.state  # type: ignore[attr-defined]
    feed(conn, ":srv 353 bot = #other :carol", ":alice!a@h RENAME #old #other :merged")
    assert sorted(state.channel("#other").members) == ["alice", "bob", "bot"]
    assert state.user("carol") is None
    assert state.memberships == 3


def test_standard_replies_become_events() -> None:
    conn = registered()
    events = feed(
        conn,
        f"{T} :srv FAIL CHATHISTORY MESSAGE_ERROR #chan timestamp=x :Messages could not be"
        " retrieved",
        ":srv WARN REHASH CERTS_EXPIRED :Certificate has expired",
        ":srv NOTE * OPER_MESSAGE :Registrations are closed",
        ":srv FAIL JOIN",  # fewer than command, code and description: not one
    )
    assert [
        (e.kind, e.command, e.code, e.context, e.description)  # type: ignore[attr-defined]
        for e in events
    ] == [
        ("FAIL", "CHATHISTORY", "MESSAGE_ERROR", ("#chan", "timestamp=x"),
         "Messages could not be retrieved"),
        ("WARN", "REHASH", "CERTS_EXPIRED", (), "Certificate has expired"),
        ("NOTE", "*", "OPER_MESSAGE", (), "Registrations are closed"),
    ]  # fmt: skip
    assert events[0].time is not None


def test_a_standard_reply_is_still_a_raw_message() -> None:
    """The replay reads FAIL CHATHISTORY from the raw line (logbot.bot.network._raw)."""
    conn = registered()
    data = b":srv FAIL CHATHISTORY INVALID_TARGET #x :no\r\n"
    kinds = [type(e).__name__ for e in conn.receive_data(data, 0.0)]
    assert kinds == ["RawMessage", "StandardReply"]
