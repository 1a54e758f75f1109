"""A small stand-in for :mod:`logbot.archive.index`'s read API, for the web view's tests.

It holds records in memory (:meth:`FakeIndex.add`), so a route test states exactly
what the index holds and sees exactly what was asked of it (``searches``).  Its search
is simple (whole words, ``word*`` prefixes, ``"a phrase"``), enough to test what the
web view does with hits, not how the real index finds them (the server and browser
tests use the real one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logbot.archive.model import Hit, Line, Query, channel_key, day_of


@dataclass(frozen=True)
class ChannelInfo:
    network: str
    key: str
    name: str
    first_day: str
    last_day: str
    lines: int


class FakeIndex:
    def __init__(self) -> None:
        # (network, key) -> day -> lines, in written order
        self._days: dict[tuple[str, str], dict[str, list[Line]]] = {}
        self._names: dict[tuple[str, str], str] = {}
        self.closed = False
        self.searches: list[Query] = []

    def add(self, record: Mapping[str, Any]) -> Line:
        network, name = str(record["network"]), str(record["channel"])
        key = channel_key(name)
        day = day_of(record)
        assert day is not None, record
        lines = self._days.setdefault((network, key), {}).setdefault(day, [])
        line = Line(len(lines) + 1, dict(record))
        lines.append(line)
        self._names[(network, key)] = name
        return line

    # -- the read API ------------------------------------------------------------------

    def networks(self) -> list[str]:
        return sorted({network for network, _ in self._days})

    def channels(self, network: str) -> list[ChannelInfo]:
        out = []
        for (net, key), days in sorted(self._days.items()):
            if net != network:
                continue
            ordered = sorted(days)
            lines = sum(len(v) for v in days.values())
            name = self._names[(net, key)]
            out.append(ChannelInfo(net, key, name, ordered[0], ordered[-1], lines))
        return out

    def days(self, network: str, channel: str) -> list[tuple[str, int]]:
        days = self._days.get((network, channel_key(channel)), {})
        return [(day, len(days[day])) for day in sorted(days)]

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]:
        lines = self._days.get((network, channel_key(channel)), {}).get(day, [])
        chosen = [line for line in lines if line.seq > after]
        return chosen if limit is None else chosen[:limit]

    def neighbours(self, network: str, channel: str, day: str) -> tuple[str | None, str | None]:
        days = sorted(self._days.get((network, channel_key(channel)), {}))
        before = [d for d in days if d < day]
        after = [d for d in days if d > day]
        return (before[-1] if before else None, after[0] if after else None)

    def line(self, network: str, channel: str, day: str, seq: int) -> Line | None:
        lines = self.day_lines(network, channel, day)
        return lines[seq - 1] if 0 < seq <= len(lines) else None

    def search(self, query: Query, context: int = 0) -> list[Hit]:
        self.searches.append(query)
        hits = []
        for (network, key), days in self._days.items():
            if query.network is not None and network != query.network:
                continue
            if query.channel is not None and key != channel_key(query.channel):
                continue
            for day, lines in days.items():
                hits.extend(Hit(network, key, day, ln.seq, ln.record) for ln in lines)
        found = [hit for hit in hits if _matches(query, hit.record)]
        found.sort(key=lambda h: (h.record["time_ms"], h.seq), reverse=True)
        return found[query.offset : query.offset + query.limit]

    def count(self, query: Query) -> int:
        return len(self.search(Query(**{**query.__dict__, "limit": 10**9, "offset": 0})))

    def close(self) -> None:
        self.closed = True


def _matches(query: Query, record: Mapping[str, Any]) -> bool:
    if query.types and record.get("type") not in query.types:
        return False
    if query.nick is not None and channel_key(str(record.get("nick"))) != channel_key(query.nick):
        return False
    time_ms = record.get("time_ms", 0)
    if query.since_ms is not None and time_ms < query.since_ms:
        return False
    if query.until_ms is not None and time_ms >= query.until_ms:
        return False
    if query.words:
        text = str(record.get("text") or "").casefold()
        for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query.words.casefold()):
            if phrase and phrase not in text:
                return False
            if word:
                stem = re.escape(word.rstrip("*"))
                tail = r"\w*" if word.endswith("*") else r"\b"
                if not re.search(rf"\b{stem}{tail}", text):
                    return False
    return True
