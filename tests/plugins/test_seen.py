"""``seen`` stays bounded (issue 15, item 10): the least recently seen are forgotten past
``max_nicks``, and no speaker ever makes it raise.

The bundled plugin through the real plugin manager on the bot's fakes (as in
test_bundled.py); its store is a real file under the harness's data folder.  Unbounded,
a full store (16 MiB at some 61,000 nicks) made 97 of 100 new speakers an ERROR with a
traceback; here the store's ``max_bytes`` is made small so that it fills in a few
hundred lines.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from logbot.config.settings import RateLimit
from tests.plugins.fakes import BOB, PluginHarness

PLENTY = RateLimit(burst=10_000, per=1.0)


def harness(tmp_path: Path, **settings: Any) -> PluginHarness:
    h = PluginHarness(
        tmp_path,
        enabled=("seen",),
        bundled=True,
        settings={"seen": settings} if settings else {},
        user_rate=PLENTY,
        channel_rate=PLENTY,
    )
    assert h.up() == []
    return h


def speaker(n: int) -> str:
    return f"u{n}!~u{n}@host{n}"


def seen_file(tmp_path: Path) -> Any:
    return json.loads((tmp_path / "data" / "testnet" / "seen.json").read_text())


def test_the_least_recently_seen_are_forgotten_past_max_nicks(tmp_path: Path) -> None:
    h = harness(tmp_path, max_nicks=50)
    for n in range(120):
        h.say(f"line {n}", source=speaker(n), after=1)
    h.say("still here", source=speaker(0), after=1)  # seen again: the most recent
    assert h.say("!seen u1", source=BOB) == [("#a", "bob: I have not seen u1 say anything here")]
    assert h.say("!seen u119", source=BOB)[0][1].endswith("saying: line 119")
    assert h.say("!seen u0", source=BOB)[0][1].endswith("saying: still here")
    assert h.manager.stats.errors == {}
    h.reactor.advance(10)  # the batched save
    saved = seen_file(tmp_path)
    assert len(saved) <= 50 and "#a u0" in saved and "#a u119" in saved
    assert "#a u1" not in saved


def test_a_full_store_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = harness(tmp_path)
    h.manager.stores.max_bytes = 8192  # full after some 60 speakers
    for n in range(300):
        assert h.say(f"hello {n}", source=speaker(n), after=1) == []
    assert h.manager.stats.errors == {}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert h.say("!seen u299", source=BOB)[0][1].endswith("saying: hello 299")
    store = h.manager.stores.get("seen", "testnet")
    assert store.size <= 8192 and store.evicted > 0


def test_max_nicks_defaults_when_unusable(tmp_path: Path) -> None:
    from plugins.seen import MAX_NICKS

    for setting in ("lots", 0, -5, True, None):
        (tmp_path / str(setting)).mkdir()
        h = harness(tmp_path / str(setting), max_nicks=setting)
        h.say("hi", source=speaker(1))
        assert h.manager.stores.get("seen", "testnet").max_keys == MAX_NICKS


# -- nick changes (issue 18, item 13) ------------------------------------------------------

DAVE = "dave!~dave@dave.host"


def arrive(h: PluginHarness, source: str, channel: str = "#a") -> None:
    """``source`` joins ``channel``: the bot then knows the channels a nick change is in."""
    h.feed(f":{source} JOIN {channel}")


def rename(h: PluginHarness, old: str, new: str, after: float = 0.0) -> None:
    if after:
        h.reactor.advance(after)
    h.feed(f":{old}!~{old}@{old}.host NICK :{new}")


def test_seen_an_old_nick_says_it_changed_and_follows_it(tmp_path: Path) -> None:
    h = harness(tmp_path)
    arrive(h, DAVE)
    h.say("hi", source=DAVE)
    rename(h, "dave", "davey", after=60)
    h.say("hello again", source="davey!~dave@dave.host", after=180)
    assert h.say("!seen dave", after=120) == [
        (
            "#a",
            "alice: dave was last seen 5 min ago changing nick to davey, after saying: hi; "
            "davey was last seen 2 min ago, saying: hello again",
        )
    ]
    # The new nick alone is answered as before.
    assert h.say("!seen DAVEY") == [
        ("#a", "alice: davey was last seen 2 min ago, saying: hello again")
    ]
    assert h.manager.stats.errors == {}


def test_seen_a_nick_change_with_nothing_said_since(tmp_path: Path) -> None:
    h = harness(tmp_path)
    arrive(h, DAVE)  # never says a word here, only changes nick
    rename(h, "dave", "davey")
    assert h.say("!seen dave", after=30) == [
        (
            "#a",
            "alice: dave was last seen 30 s ago changing nick to davey; "
            "davey has not said anything here since",
        )
    ]
    assert h.say("!seen davey") == [("#a", "alice: I have not seen davey say anything here")]


def test_seen_ignores_what_an_earlier_holder_of_the_new_nick_said(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.say("I was davey first", source="davey!~other@other.host")
    arrive(h, DAVE)
    rename(h, "dave", "davey", after=600)
    assert h.say("!seen dave", after=60) == [
        (
            "#a",
            "alice: dave was last seen 1 min ago changing nick to davey; "
            "davey has not said anything here since",
        )
    ]


def test_seen_follows_at_most_max_hops_nick_changes(tmp_path: Path) -> None:
    from plugins.seen import MAX_HOPS

    h = harness(tmp_path)
    arrive(h, DAVE)
    nicks = ["dave"] + [f"dave{n}" for n in range(1, MAX_HOPS + 2)]
    for old, new in zip(nicks, nicks[1:], strict=False):
        rename(h, old, new, after=10)
    h.say("at the end", source=f"{nicks[-1]}!~dave@dave.host", after=10)
    # From the second nick the chain is MAX_HOPS long: answered in full.
    reply = h.say(f"!seen {nicks[1]}")
    assert len(reply) == 1
    assert reply[0][1].endswith(f"{nicks[-1]} was last seen 0 s ago, saying: at the end")
    assert reply[0][1].count("changing nick") == MAX_HOPS
    # From the first it is one longer: cut after MAX_HOPS changes, the last one named.
    reply = h.say("!seen dave")
    text = " ".join(line for _, line in reply)
    assert text.count("changing nick") == MAX_HOPS + 1
    assert text.endswith(f"changing nick to {nicks[-1]}; ...")
    assert "at the end" not in text


def test_seen_a_nick_changed_back_is_named_once(tmp_path: Path) -> None:
    h = harness(tmp_path)
    arrive(h, DAVE)
    h.say("hi", source=DAVE)
    rename(h, "dave", "davey", after=60)
    rename(h, "davey", "dave", after=60)
    assert h.say("!seen dave", after=60) == [
        (
            "#a",
            "alice: dave was last seen 2 min ago changing nick to davey, after saying: hi; "
            "davey was last seen 1 min ago changing nick to dave",
        )
    ]
    h.say("back", source=DAVE)
    assert h.say("!seen davey", after=5) == [
        (
            "#a",
            "alice: davey was last seen 1 min 5 s ago changing nick to dave; "
            "dave was last seen 5 s ago, saying: back",
        )
    ]


def test_seen_a_nick_change_is_known_only_where_it_was_seen(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.join("#B")
    arrive(h, DAVE)  # in #a only
    rename(h, "dave", "davey")
    assert h.say("!seen dave", target="#B") == [
        ("#B", "alice: I have not seen dave say anything here")
    ]
    assert h.say("!seen dave")[0][1].startswith("alice: dave was last seen 0 s ago changing nick")
    keys = h.manager.stores.get("seen", "testnet").keys()
    assert [key for key in keys if "dave" in key] == ["#a dave"]


def test_a_nick_change_counts_against_max_nicks(tmp_path: Path) -> None:
    h = harness(tmp_path, max_nicks=3)
    for n in range(6):
        arrive(h, speaker(n))
        rename(h, f"u{n}", f"v{n}", after=1)
    store = h.manager.stores.get("seen", "testnet")
    assert store.max_keys == 3 and len(list(store.keys())) <= 3
    assert h.say("!seen u5")[0][1].startswith("alice: u5 was last seen 0 s ago changing nick to v5")
