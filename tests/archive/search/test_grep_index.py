"""``!grep`` from the index when there is one: the bundled plugin through the real
plugin manager and runner (the bot's fakes, a real log writer), the index a fake with
the real one's API (tests/archive/search/test_backend.py's FakeIndex)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from logbot.archive.model import Hit
from logbot.config.settings import RateLimit
from logbot.logs.writer import LogWriter
from logbot.plugins.logview import LogView
from tests.bot.fakes import WALL0
from tests.plugins.fakes import BOB, PluginHarness

from .conftest import record
from .test_backend import FakeIndex, opener_of

PLENTY = RateLimit(burst=1000, per=1.0)


def indexed(n: int, text: str, nick: str = "carol") -> Hit:
    r = record(f"2020-01-0{n}T10:00:00", text, nick=nick, network="testnet", channel="#a")
    return Hit("testnet", "#a", f"2020-01-0{n}", 1, r)


@pytest.fixture
def grep_bot(tmp_path: Path) -> Iterator[Callable[..., PluginHarness]]:
    """``grep_bot(index)``: a bot with !grep whose log view has an index file and
    opens ``index`` (None: no index file)."""
    writers: list[LogWriter] = []

    def make(index: FakeIndex | None, opened: list[Any]) -> PluginHarness:
        h = PluginHarness(tmp_path, enabled=("grep",), bundled=True, user_rate=PLENTY,
                          channel_rate=PLENTY, loop_repeats=1000)  # fmt: skip
        writer = LogWriter(
            h.reactor, root=tmp_path / "logs", wall=lambda: WALL0 + h.reactor.seconds()
        )
        writers.append(writer)
        h.writer = h.bot.writer = writer  # type: ignore[assignment]
        path = tmp_path / "data" / "index.sqlite3"
        if index is not None:
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"")
        h.manager.index_path = str(path)
        h.runner.configure()
        assert h.runner.view.index_path == path  # the runner passes it on
        h.runner.view = LogView(tmp_path / "logs", "testnet", wall=h.manager.wall,
                                index_path=path,
                                open_index=opener_of(index or FakeIndex([]), opened))  # fmt: skip
        assert h.up() == []
        return h

    yield make
    for writer in writers:
        writer.close()


def test_grep_answers_from_the_index(grep_bot: Callable[..., PluginHarness]) -> None:
    index = FakeIndex([indexed(4, "an old match"), indexed(3, "match again", nick="bob"),
                       indexed(2, "match 2"), indexed(1, "match 1")])  # fmt: skip
    opened: list[Any] = []
    h = grep_bot(index, opened)
    assert h.say("match, here", source=BOB) == []  # on disk, not in the (fake) index
    assert h.say("!grep match", after=1) == [
        ("#a", "[2020-01-04 10:00:00] <carol> an old match"),
        ("#a", "[2020-01-03 10:00:00] <bob> match again"),
        ("#a", "[2020-01-02 10:00:00] <carol> match 2"),
    ]
    ((query, context),) = index.queries
    assert (query.network, query.channel, query.words) == ("testnet", "#a", '"match"')
    assert set(query.types) == {"message", "action"} and context == 0
    assert index.closed == 1 and len(opened) == 1


def test_the_bots_replies_and_commands_are_left_out_page_after_page(
    grep_bot: Callable[..., PluginHarness],
) -> None:
    noise = [indexed(9, "[2020] <x> word", nick="bot")] + [
        indexed(8, "!grep word") for _ in range(11)
    ]
    index = FakeIndex([*noise, indexed(2, "the word"), indexed(1, "a word")])
    h = grep_bot(index, [])
    assert h.say("!grep word") == [
        ("#a", "[2020-01-02 10:00:00] <carol> the word"),
        ("#a", "[2020-01-01 10:00:00] <carol> a word"),
    ]
    assert [q.offset for q, _ in index.queries] == [0, 10]


def test_a_failing_index_leaves_grep_to_the_files(grep_bot: Callable[..., PluginHarness]) -> None:
    index = FakeIndex([indexed(1, "never shown")], fail=RuntimeError("database disk image"))
    h = grep_bot(index, [])
    assert h.say("thinking aloud", source=BOB) == []
    # the files' words are substrings: "ink" finds "thinking"
    assert h.say("!grep ink", after=1) == [("#a", "[2026-09-21 14:15:00] <bob> thinking aloud")]
    assert len(index.queries) == 1


def test_without_an_index_file_the_index_is_never_opened(
    grep_bot: Callable[..., PluginHarness],
) -> None:
    opened: list[Any] = []
    h = grep_bot(None, opened)
    assert h.say("plain words", source=BOB) == []
    assert h.say("!grep words", after=1) == [("#a", "[2026-09-21 14:15:00] <bob> plain words")]
    assert h.say("!grep !!!") == [("#a", "alice: no line here holds '!!!'")]
    assert opened == []


def test_the_bot_gives_grep_the_index_only_when_it_is_kept(config: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    from logbot.bot.service import _grep_index
    from logbot.config.settings import WebOptions

    path = str(tmp_path / "data" / "index.sqlite3")
    assert _grep_index(config) is None  # default: on only with a web view
    assert _grep_index(replace(config, web=WebOptions())) == path
    assert _grep_index(replace(config, index=replace(config.index, enabled=True))) == path
    off = replace(config, web=WebOptions(), index=replace(config.index, enabled=False))
    assert _grep_index(off) is None
