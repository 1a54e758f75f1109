"""The web search: the form's fields to a :class:`~logbot.archive.model.Query`, run over
the published channels only.

Why so careful: anyone who can reach the page can type anything, so the form offers
words (never a regular expression), every field is bounded (:data:`MAX_QUERY_CHARS`,
:data:`MAX_FIELD_CHARS`), a bad date or type is a clear message (``400``), and the
pages stop at :data:`MAX_SEARCH_DEPTH` results.  What is searched is decided here, not
by the form: the index is asked once per network whose channels are all published
(the common case, ``"*"``), else once per published channel, and the hits are merged
newest first; every hit is checked against the publishing rules again before it is
shown, so a channel that appears between the listing and the query is not.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from logbot.archive.model import Hit, Query, channel_key
from logbot.archive.web.access import Publisher
from logbot.archive.web.pages import EVENT_TYPES, SearchForm

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_SEARCH_DEPTH",
    "SearchProblem",
    "read_form",
    "run_search",
]

#: The longest search words (characters).
MAX_QUERY_CHARS = 200
#: The longest other search field (a nick, a channel, a network).
MAX_FIELD_CHARS = 100
#: How deep into the results pages may go (hits skipped plus shown): each page is
#: found by asking for everything before it, so this bounds what one search holds.
MAX_SEARCH_DEPTH = 10_000

_DAY_MS = 86_400_000
_TEXT_FIELDS = ("q", "net", "chan", "nick", "type", "since", "until")


class SearchProblem(ValueError):
    """A search that cannot be made: the message says why; ``form`` is shown back."""

    def __init__(self, message: str, form: SearchForm) -> None:
        super().__init__(message)
        self.form = form


def _day_ms(text: str) -> int | None:
    """Midnight UTC of ``YYYY-MM-DD`` in ms (the days of the logs are each channel's
    own; UTC is near enough for a search bound), or None if it is not a date."""
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    if len(text) != 10:
        return None
    return (day - datetime.date(1970, 1, 1)).days * _DAY_MS


def read_form(fields: dict[str, str], per_page: int) -> tuple[SearchForm, Query | None]:
    """The form as typed, and its query (None: nothing to search for yet)."""
    text = {name: fields.get(name, "").strip() for name in _TEXT_FIELDS}
    cut = {name: value[:MAX_FIELD_CHARS] for name, value in text.items()}
    form = SearchForm(
        q=text["q"][:MAX_QUERY_CHARS],
        net=cut["net"],
        chan=cut["chan"],
        nick=cut["nick"],
        type=cut["type"],
        since=cut["since"],
        until=cut["until"],
    )
    if len(text["q"]) > MAX_QUERY_CHARS:
        raise SearchProblem(f"The words are longer than {MAX_QUERY_CHARS} characters.", form)
    if any(len(value) > MAX_FIELD_CHARS for name, value in text.items() if name != "q"):
        raise SearchProblem(f"A field is longer than {MAX_FIELD_CHARS} characters.", form)
    page = fields.get("page", "").strip() or "1"
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= MAX_SEARCH_DEPTH:
        raise SearchProblem("The page must be a number from 1.", form)
    form = dataclasses.replace(form, page=int(page))
    if form.page * per_page > MAX_SEARCH_DEPTH:
        raise SearchProblem(f"Only the first {MAX_SEARCH_DEPTH} results can be shown.", form)
    if form.type and form.type not in EVENT_TYPES:
        raise SearchProblem(f"Unknown type (one of: {', '.join(EVENT_TYPES)}).", form)
    since = _day_ms(form.since) if form.since else None
    until = _day_ms(form.until) if form.until else None
    if (form.since and since is None) or (form.until and until is None):
        raise SearchProblem("Dates are written YYYY-MM-DD.", form)
    if not form.q and not form.nick:
        return form, None
    query = Query(
        words=form.q or None,
        nick=form.nick or None,
        types=(form.type,) if form.type else (),
        since_ms=since,
        until_ms=None if until is None else until + _DAY_MS,
        limit=per_page,
        offset=(form.page - 1) * per_page,
    )
    return form, query


def _targets(index: Any, publisher: Publisher, form: SearchForm) -> list[tuple[str, str | None]]:
    """``(network, channel key or None for the whole network)`` to ask the index."""
    have = set(index.networks())
    wanted_key = channel_key(form.chan) if form.chan else None
    targets: list[tuple[str, str | None]] = []
    for network in publisher.networks():
        if network not in have or (form.net and network != form.net):
            continue
        infos = index.channels(network)
        visible = [info.key for info in infos if publisher.shows(network, info.key)]
        if wanted_key is not None:
            targets.extend((network, key) for key in visible if key == wanted_key)
        elif visible and len(visible) == len(infos):
            targets.append((network, None))
        else:
            targets.extend((network, key) for key in visible)
    return targets


def _newest_first(hit: Hit) -> tuple[int, str, str, str, int]:
    time_ms = hit.record.get("time_ms")
    return (time_ms if isinstance(time_ms, int) else 0, hit.day, hit.network, hit.channel, hit.seq)


def run_search(
    index: Any, publisher: Publisher, form: SearchForm, query: Query
) -> tuple[list[Hit], bool]:
    """The hits of one page (newest first), and whether there are older ones."""
    targets = _targets(index, publisher, form)
    wanted = query.offset + query.limit
    found: list[Hit] = []
    for network, key in targets:
        if len(targets) == 1:  # the index pages it
            ask = dataclasses.replace(query, network=network, channel=key, limit=query.limit + 1)
        else:  # each channel's first ``wanted``, merged
            ask = dataclasses.replace(
                query, network=network, channel=key, limit=wanted + 1, offset=0
            )
        try:
            hits = index.search(ask)
        except ValueError as e:  # the index's SearchError: its message is for a user
            raise SearchProblem(f"Cannot search for that: {e}", form) from None
        found.extend(h for h in hits if publisher.shows(h.network, h.channel))
    if len(targets) == 1:
        return found[: query.limit], len(found) > query.limit
    found.sort(key=_newest_first, reverse=True)
    return found[query.offset : wanted], len(found) > wanted
