"""Channel renames (IRCv3 ``draft/channel-rename``, logbot.bot.renames) on the bot's
fakes and a real writer: the log moves with a line in both, the options and the key
follow, the rejoin uses the new name, and no name leaves the log root."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from logbot.config.settings import ChannelConfig, LogOptions, Secret
from logbot.logs.writer import LogWriter
from tests.bot.fakes import WALL0, Harness, network

CAPS = "batch server-time message-tags draft/channel-rename"
IRSSI = LogOptions(text_layout="irssi")


def harness(tmp_path: Path, **overrides: Any) -> Harness:
    h = Harness(network(**overrides))
    h.writer = LogWriter(  # type: ignore[assignment]
        h.reactor, root=tmp_path, wall=lambda: WALL0 + h.reactor.seconds()
    )
    h.bot.writer = h.writer
    h.start()
    up(h)
    return h


def up(h: Harness) -> None:
    h.connect()
    h.register(caps=CAPS)
    for chan in ("#a", "#B"):
        h.join(chan)
        h.feed(f":irc.example 353 bot = {chan} :bot @alice", f":irc.example 366 bot {chan} :End")


def reconnect(h: Harness) -> set[str]:
    """Lose the link, reconnect, register: the channels (and keys) the bot joins."""
    h.lose()
    h.reactor.advance(h.bot.delay + 0.01)
    h.connect()
    h.sent()
    h.register(caps=CAPS)
    (join,) = [line for line in h.sent() if line.startswith("JOIN")]
    return {word for part in join.split()[1:] for word in part.split(",")}


def folder(tmp_path: Path, name: str) -> Path:
    return tmp_path / "testnet" / name


def text(tmp_path: Path, name: str) -> list[str]:
    (path,) = folder(tmp_path, name).glob("*.log")
    return path.read_text().splitlines()


def jsonl(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    (path,) = folder(tmp_path, name).glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_log_moves_to_the_new_name_with_a_line_in_both(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.feed(
        ":alice!~alice@a.host PRIVMSG #a :before",
        ":alice!~alice@a.host RENAME #a #New :a better name",
        ":alice!~alice@a.host PRIVMSG #New :after",
    )
    old = text(tmp_path, "#a")
    assert old[-2].endswith("  <alice> before")
    assert old[-1].endswith("  *** #a was renamed to #New by alice (a better name)")
    new = [line.split("  ", 1)[1] for line in text(tmp_path, "#new")]
    assert new == ["*** #New was renamed from #a by alice (a better name)", "<alice> after"]
    rows = jsonl(tmp_path, "#new")
    assert (rows[0]["type"], rows[0]["channel"], rows[0]["target"], rows[0]["nick"]) == (
        "renamed_from", "#New", "#a", "alice"
    )  # fmt: skip
    last = jsonl(tmp_path, "#a")[-1]
    assert (last["type"], last["channel"], last["target"]) == ("renamed_to", "#a", "#New")
    assert h.bot.joined == {"#new": "#New", "#b": "#B"}


def test_options_and_key_follow_and_the_rejoin_uses_the_new_name(tmp_path: Path) -> None:
    h = harness(
        tmp_path, channels=(ChannelConfig("#a", Secret("sekrit"), IRSSI), ChannelConfig("#B"))
    )
    h.feed(":alice!~alice@a.host RENAME #a #new :moving")
    assert text(tmp_path, "#new")[0][6:] == "-!- #new was renamed from #a by alice [moving]"
    assert reconnect(h) == {"#new", "#B", "sekrit"}
    h.join("#new")
    h.feed(":irc.example 366 bot #new :End", ":alice!~alice@a.host PRIVMSG #new :back again")
    lines = text(tmp_path, "#new")
    assert lines[-1][6:] == "<alice> back again"  # irssi's layout still: the options followed
    assert "-!- logbot: reconnected to" in "\n".join(lines)  # the gap line is the new name's
    # A reload of the same config keeps it so.
    h.bot.configure(replace(h.bot.config))
    assert h.bot.options_for("#new").text_layout == "irssi"
    assert reconnect(h) == {"#new", "#B", "sekrit"}


def test_a_channel_renamed_twice_keeps_its_options(tmp_path: Path) -> None:
    h = harness(tmp_path, channels=(ChannelConfig("#a", None, IRSSI), ChannelConfig("#B")))
    h.feed(
        ":alice!~alice@a.host RENAME #a #b2 :one",
        ":alice!~alice@a.host RENAME #b2 #c3 :two",
    )
    assert h.bot.renames.origins == {"#c3": "#a"}
    assert h.bot.options_for("#c3").text_layout == "irssi"
    assert reconnect(h) == {"#c3", "#B"}
    assert h.bot.options_for("#c3").text_layout == "irssi"  # rebuilt from the config


def test_a_name_from_the_server_never_leaves_the_log_root(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.feed(
        ":alice!~alice@a.host RENAME #a #../../x :escape",
        ":alice!~alice@a.host PRIVMSG #../../x :still in the root",
    )
    names = sorted(p.name for p in (tmp_path / "testnet").iterdir())
    assert names == ["#..%2F..%2Fx", "#a", "#b"]
    (escaped,) = [p for p in (tmp_path / "testnet").iterdir() if p.name.startswith("#..")]
    assert text(tmp_path, escaped.name)[-1].endswith("  <alice> still in the root")
    assert not (tmp_path.parent / "x").exists() and not (tmp_path / "x").exists()


def test_a_change_of_case_is_one_line_in_the_same_log(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.feed(":alice!~alice@a.host RENAME #a #A :", ":alice!~alice@a.host PRIVMSG #A :same log")
    lines = [line.split("  ", 1)[1] for line in text(tmp_path, "#a")[-2:]]
    assert lines == ["*** #a was renamed to #A by alice", "<alice> same log"]
    assert h.bot.joined["#a"] == "#A" and "#a" not in h.bot.parted


def test_a_renamer_who_opted_out_is_not_named(tmp_path: Path) -> None:
    hidden = LogOptions(opt_out=("alice",))
    h = harness(tmp_path, channels=(ChannelConfig("#a", None, hidden), ChannelConfig("#B")))
    h.feed(":alice!~alice@a.host RENAME #a #new :quietly")
    assert text(tmp_path, "#a")[-1].endswith("  *** #a was renamed to #new (quietly)")
    row = jsonl(tmp_path, "#new")[0]
    assert (row["type"], row["nick"], row["user"], row["tags"]) == ("renamed_from", None, None, {})


def test_a_rename_while_away_is_followed_from_the_servers_fail(tmp_path: Path) -> None:
    h = harness(tmp_path)
    assert reconnect(h) == {"#a", "#B"}
    h.feed(":irc.example FAIL JOIN CHANNEL_RENAMED #a #new :The channel has been renamed")
    assert h.sent() == ["JOIN #new"]
    assert text(tmp_path, "#a")[-1].endswith(
        "  *** #a was renamed to #new (The channel has been renamed)"
    )
    h.join("#new")
    h.feed(":irc.example 366 bot #new :End")
    gap = jsonl(tmp_path, "#new")[0]
    assert gap["type"] == "gap" and "reconnected to" in gap["text"]  # the old name's gap
    assert reconnect(h) == {"#new", "#B"}


def test_a_fail_for_a_channel_not_ours_changes_nothing(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.sent()
    h.feed(":irc.example FAIL JOIN CHANNEL_RENAMED #zzz #new :renamed")
    assert h.sent() == [] and "#new" not in h.bot.extra_channels


def test_a_server_renaming_in_a_loop_costs_no_memory(tmp_path: Path) -> None:
    """What is kept per channel follows the name: a thousand renames hold what one does."""
    h = harness(tmp_path, channels=(ChannelConfig("#a", None, IRSSI), ChannelConfig("#B")))
    h.feed(":alice!~alice@a.host RENAME #a #r0 :go")
    sizes = (len(h.bot._options), len(h.bot.parted), len(h.bot.extra_channels))
    h.feed(*(f":alice!~alice@a.host RENAME #r{i} #r{i + 1} :again" for i in range(1000)))
    bot = h.bot
    assert (len(bot._options), len(bot.parted), len(bot.extra_channels)) == sizes
    assert bot.renames.origins == {"#r1000": "#a"} and set(bot.joined) == {"#r1000", "#b"}
    assert bot.options_for("#r1000").text_layout == "irssi"
    assert text(tmp_path, "#r999")[-1][6:] == "-!- #r999 was renamed to #r1000 by alice [again]"
