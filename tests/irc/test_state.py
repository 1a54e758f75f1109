from __future__ import annotations

from logbot.irc import events as ev
from logbot.irc.message import parse
from logbot.irc.state import IRCState

ME = "bot!~b@host.example"


def feed(state: IRCState, *lines: str) -> list[ev.Event]:
    out: list[ev.Event] = []
    for line in lines:
        out.extend(state.apply(parse(line)))
    return out


def joined_state() -> IRCState:
    state = IRCState("bot")
    feed(
        state,
        ":srv 001 bot :Welcome to the net bot!~b@host.example",
        ":srv 005 bot PREFIX=(qov)~@+ CHANMODES=b,k,l,imnt CASEMAPPING=rfc1459 :are supported",
        f":{ME} JOIN #a",
        ":srv 353 bot = #a :~bot @+alice!al@a.host bob!bo@b.host",
        ":srv 366 bot #a :End of NAMES",
        f":{ME} JOIN #b",
        ":srv 353 bot = #b :bot @alice",
    )
    return state


def test_welcome_learns_our_mask() -> None:
    state = joined_state()
    assert state.me.hostmask == ME


def test_names_with_multi_prefix_and_userhost() -> None:
    state = joined_state()
    channel = state.channel("#A")
    assert set(channel.members) == {"bot", "alice", "bob"}
    assert channel.members["alice"] == {"o", "v"}
    assert channel.members["bot"] == {"q"}
    assert state.user("ALICE").host == "a.host"
    assert state.shared_channels("alice") == ("#a", "#b")


def test_quit_event_carries_channels_computed_before_removal() -> None:
    state = joined_state()
    [event] = feed(state, "@time=2024-01-02T03:04:05.678Z :alice!al@a.host QUIT :bye")
    assert isinstance(event, ev.Quit)
    assert event.channels == ("#a", "#b")
    assert event.reason == "bye"
    assert event.time is not None and event.time.year == 2024
    assert state.user("alice") is None
    assert "alice" not in state.channel("#a").members


def test_nick_event_carries_channels_and_renames_everywhere() -> None:
    state = joined_state()
    [event] = feed(state, ":Alice!al@a.host NICK Carol")
    assert event == ev.NickChanged(
        old="Alice", new="Carol", source="Alice!al@a.host", channels=("#a", "#b"), is_self=False
    )
    assert state.user("carol").nick == "Carol"
    assert state.channel("#a").members["carol"] == {"o", "v"}
    assert state.user("alice") is None


def test_own_nick_change() -> None:
    state = joined_state()
    [event] = feed(state, f":{ME} NICK bot2")
    assert event.is_self and state.nick == "bot2"
    assert state.me.nick == "bot2"


def test_part_kick_and_forgetting_users() -> None:
    state = joined_state()
    [part] = feed(state, ":bob!bo@b.host PART #a :later")
    assert part == ev.Parted(
        channel="#a", nick="bob", source="bob!bo@b.host", is_self=False, reason="later"
    )
    assert state.user("bob") is None  # no channel in common any more
    [kick] = feed(state, ":alice!al@a.host KICK #b bot :out")
    assert kick.is_self and kick.reason == "out"
    assert state.channel("#b") is None
    assert state.shared_channels("alice") == ("#a",)
    feed(state, f":{ME} PART #a")
    assert state.channels == {}
    assert list(state.users) == ["bot"]


def test_extended_join_account_and_realname() -> None:
    state = joined_state()
    [event] = feed(state, ":dan!d@d.host JOIN #a danacct :Dan D")
    assert event.account == "danacct" and event.realname == "Dan D"
    assert not event.is_self
    [event] = feed(state, ":eve!e@e.host JOIN #a * :Eve")
    assert event.account is None
    assert state.user("dan").realname == "Dan D"


def test_join_of_channel_we_are_not_in_is_ignored() -> None:
    state = joined_state()
    assert feed(state, ":x!y@z JOIN #elsewhere") == []


def test_mode_prefix_and_param_rules() -> None:
    state = joined_state()
    [event] = feed(state, ":alice!al@a.host MODE #a +o-v+lkb-l bob alice 10 key ban!*@* ")
    assert [(c.adding, c.mode, c.param) for c in event.changes] == [
        (True, "o", "bob"),
        (False, "v", "alice"),
        (True, "l", "10"),
        (True, "k", "key"),
        (True, "b", "ban!*@*"),
        (False, "l", None),
    ]
    channel = state.channel("#a")
    assert channel.members["bob"] == {"o"}
    assert channel.members["alice"] == {"o"}
    assert channel.modes == {"k": "key"}


def test_user_modes_and_324() -> None:
    state = joined_state()
    feed(state, ":bot MODE bot :+iw")
    assert state.user_modes == {"i", "w"}
    feed(state, ":srv 324 bot #a +ntl 5")
    assert state.channel("#a").modes == {"n": None, "t": None, "l": "5"}


def test_topic_332_333_and_change() -> None:
    state = joined_state()
    [event] = feed(state, ":srv 332 bot #a :Hello there")
    assert event.topic == "Hello there" and not event.is_change
    feed(state, ":srv 333 bot #a alice!al@a.host 1700000000")
    channel = state.channel("#a")
    assert channel.topic_setter == "alice!al@a.host" and channel.topic_time == 1700000000
    [event] = feed(state, ":alice!al@a.host TOPIC #a :New")
    assert event.is_change and event.setter == "alice!al@a.host"
    assert channel.topic == "New"
    feed(state, ":srv 333 bot #a x ²")  # junk time must not raise
    assert channel.topic_time is None


def test_chghost_setname_account_away() -> None:
    state = joined_state()
    [event] = feed(state, ":alice!al@a.host CHGHOST newu new.host")
    assert event.channels == ("#a", "#b") and event.host == "new.host"
    assert state.user("alice").hostmask == "alice!newu@new.host"
    [event] = feed(state, ":alice!newu@new.host SETNAME :Alice A")
    assert event.realname == "Alice A" == state.user("alice").realname
    [event] = feed(state, ":alice!newu@new.host ACCOUNT alice")
    assert event.account == "alice"
    [event] = feed(state, ":alice!newu@new.host ACCOUNT *")
    assert event.account is None
    [event] = feed(state, ":alice!newu@new.host AWAY :lunch")
    assert event.message == "lunch" == state.user("alice").away
    [event] = feed(state, ":alice!newu@new.host AWAY")
    assert event.message is None


def test_account_tag_updates_user() -> None:
    state = joined_state()
    feed(state, "@account=bobby :bob!bo@b.host PRIVMSG #a :hi")
    assert state.user("bob").account == "bobby"


def test_casemapping_change_rekeys() -> None:
    state = IRCState("Bot[1]")
    feed(state, ":srv 001 Bot[1] :hi", ":Bot[1]!u@h JOIN #Chan[x]")
    assert state.channel("#chan{x}") is not None  # rfc1459 default
    feed(state, ":srv 005 Bot[1] CASEMAPPING=ascii :are supported")
    assert state.channel("#chan{x}") is None
    assert state.channel("#CHAN[X]") is not None
    assert state.shared_channels("bot[1]") == ("#Chan[x]",)


def test_short_messages_do_not_raise() -> None:
    state = joined_state()
    short = (
        "JOIN",
        "KICK #a",
        "MODE #a",
        ":srv 353 bot",
        ":x CHGHOST a",
        "TOPIC",
        ":srv 333 bot #a",
    )
    for line in short:
        assert state.apply(parse(line)) == []
