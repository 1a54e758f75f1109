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
