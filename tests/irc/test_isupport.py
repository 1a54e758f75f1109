from __future__ import annotations

from logbot.irc.isupport import ChanModes, ISupport, unescape_isupport_value

TAIL = "are supported by this server"


def make(*tokens: str) -> ISupport:
    isupport = ISupport()
    isupport.apply(("bot", *tokens, TAIL))
    return isupport


def test_defaults_before_any_005() -> None:
    isupport = ISupport()
    assert isupport.casemapping == "rfc1459"
    assert isupport.chantypes == "#&"
    assert isupport.prefix == ("ov", "@+")
    assert isupport.nicklen is None
    assert isupport.chanmodes == ChanModes("b", "k", "l", "imnpst")
    assert isupport.linelen == 512
    assert isupport.network is None
    assert isupport.bot_mode is None
    assert isupport.monitor is None


def test_typed_values() -> None:
    isupport = make(
        "CASEMAPPING=ascii",
        "CHANTYPES=#",
        "PREFIX=(qaohv)~&@%+",
        "NICKLEN=30",
        "CHANMODES=beI,k,l,BCMNORST",
        "LINELEN=2048",
        "NETWORK=Test\\x20Net",
        "BOT=B",
        "MONITOR=100",
    )
    assert isupport.casemapping == "ascii"
    assert isupport.chantypes == "#"
    assert isupport.prefix == ("qaohv", "~&@%+")
    assert isupport.nicklen == 30
    assert isupport.chanmodes == ChanModes("beI", "k", "l", "BCMNORST")
    assert isupport.linelen == 2048
    assert isupport.network == "Test Net"
    assert isupport.bot_mode == "B"
    assert isupport.monitor == 100
    assert isupport.is_channel("#x") and not isupport.is_channel("&x")


def test_negation_removes_token_and_later_lines_accumulate() -> None:
    isupport = make("NETWORK=A", "MONITOR")
    assert isupport.monitor == 0
    isupport.apply(("bot", "-NETWORK", "-MONITOR", "NICKLEN=9", TAIL))
    assert isupport.network is None
    assert isupport.monitor is None
    assert isupport.nicklen == 9
    assert "NICKLEN" in isupport


def test_bad_values_fall_back() -> None:
    isupport = make("NICKLEN=abc", "PREFIX=(ov)@", "CHANTYPES=")
    assert isupport.nicklen is None
    assert isupport.prefix == ("", "")
    assert isupport.chantypes == ""
    assert not isupport.is_channel("#x")


def test_unescape() -> None:
    assert unescape_isupport_value("a\\x20b\\x5Cc\\x3D") == "a b\\c="


def test_targmax() -> None:
    isupport = make("TARGMAX=PRIVMSG:4,JOIN:,KICK:1")
    assert isupport.targmax("privmsg") == 4
    assert isupport.targmax("JOIN") is None
    assert isupport.targmax("KICK") == 1
    assert isupport.targmax("NOTICE") is None


def test_chanlimit_by_prefix_group() -> None:
    assert make("CHANLIMIT=#:250").chanlimit == {"#": 250}
    assert make("CHANLIMIT=#&:100").chanlimit == {"#&": 100}
    assert make("CHANLIMIT=#:").chanlimit == {"#": None}  # no limit
    assert make("CHANLIMIT=#:120,&:,!:x,:5").chanlimit == {"#": 120, "&": None}  # bad: skipped
    assert make("CHANTYPES=#", "MAXCHANNELS=20").chanlimit == {"#": 20}  # the older token
    assert make().chanlimit == {}  # nothing said: a 405 will tell
