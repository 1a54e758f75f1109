"""The web view's pages, as HTML bodies: the channel list, a calendar, a day, a search.

Why apart from the routes: these are pure functions of what the routes looked up
(the routes decide what may be shown; these only show it), so each can be tested and
timed alone.  Everything from the logs or the request is escaped here (names with
:func:`plain`, lines by :mod:`logbot.archive.web.lines`), and every link is built by
:mod:`logbot.archive.web.urls` from names the index gave, never copied from the URL.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from logbot.archive.model import Hit, Line
from logbot.archive.web.lines import row, time_of
from logbot.archive.web.mirc import esc, plain
from logbot.archive.web.urls import channel_url, day_url, quote

__all__ = [
    "EVENT_TYPES",
    "ChannelRow",
    "SearchForm",
    "calendar_body",
    "channels_body",
    "day_body",
    "follow_url",
    "rows",
    "search_body",
]

#: The line types the search form offers (the jsonl schema's, grouped as people ask).
EVENT_TYPES = (
    "message", "action", "notice", "join", "part", "quit", "kick", "nick", "mode", "topic",
)  # fmt: skip

_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


@dataclass(frozen=True)
class ChannelRow:
    """A published channel in the list: its key, name, day count, lines, last day."""

    key: str
    name: str
    days: int
    lines: int
    last_day: str | None


def _crumbs(*parts: tuple[str | None, str]) -> str:
    """``a › b › c``: each part (href or None, text already escaped)."""
    items = [f'<a href="{esc(href)}">{text}</a>' if href else text for href, text in parts]
    return f'<nav class="crumbs">{" › ".join(items)}</nav>\n'


def channels_body(title: str, networks: Sequence[tuple[str, Sequence[ChannelRow]]]) -> str:
    """The list of networks and their published channels."""
    out = [f"<h1>{esc(title)}</h1>\n"]
    if not networks:
        out.append('<p class="note">Nothing is published yet.</p>\n')
    for network, channels in networks:
        out.append(f'<section><h2><a href="/{quote(network)}/">{plain(network)}</a></h2>\n')
        if not channels:
            out.append('<p class="note">No channel with logs.</p></section>\n')
            continue
        out.append(
            '<table class="chans"><thead><tr><th>Channel</th><th>Days</th><th>Lines</th>'
            "<th>Last day</th></tr></thead><tbody>\n"
        )
        for channel in channels:
            last = (
                f'<a href="{day_url(network, channel.key, channel.last_day)}">'
                f"{esc(channel.last_day)}</a>"
                if channel.last_day
                else ""
            )
            out.append(
                f'<tr><td><a href="{channel_url(network, channel.key)}"><bdi>'
                f'{plain(channel.name)}</bdi></a></td><td class="n">{channel.days}</td>'
                f'<td class="n">{channel.lines}</td><td>{last}</td></tr>\n'
            )
        out.append("</tbody></table></section>\n")
    return "".join(out)


def _month(network: str, key: str, year: int, month: int, counts: Mapping[str, int]) -> str:
    out = [
        f'<table class="cal"><caption>{calendar.month_name[month]} {year}</caption>'
        f"<thead><tr>{''.join(f'<th>{d}</th>' for d in _WEEKDAYS)}</tr></thead><tbody>"
    ]
    for week in calendar.Calendar().monthdayscalendar(year, month):
        cells = []
        for number in week:
            if number == 0:
                cells.append("<td></td>")
                continue
            day = f"{year:04d}-{month:02d}-{number:02d}"
            count = counts.get(day)
            if count is None:
                cells.append(f'<td class="off">{number}</td>')
            else:
                title = f"{count} line{'s' if count != 1 else ''}"
                cells.append(
                    f'<td><a href="{day_url(network, key, day)}" title="{title}">{number}'
                    f"<small>{count}</small></a></td>"
                )
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</tbody></table>\n")
    return "".join(out)


def calendar_body(
    site: str,
    network: str,
    key: str,
    name: str,
    days: Sequence[tuple[str, int]],
    *,
    search: bool = True,
) -> str:
    """A channel's calendar: each month with logs (newest first), its days linked;
    ``search``: with the form searching this channel (not in the static export)."""
    counts = dict(days)
    months = sorted({(int(d[:4]), int(d[5:7])) for d in counts}, reverse=True)
    lines = sum(counts.values())
    out = [
        _crumbs(("/", esc(site)), (f"/{quote(network)}/", plain(network)), (None, plain(name))),
        f"<h1><bdi>{plain(name)}</bdi> <small>on {plain(network)}</small></h1>\n",
        f'<p class="note">{len(counts)} days, {lines} lines.',
    ]
    if days:
        last = days[-1][0]
        out.append(f' Latest: <a href="{day_url(network, key, last)}">{esc(last)}</a>.')
    out.append("</p>\n")
    if search:
        out.append(_channel_search(network, key))
    out.append('<div class="months">\n')
    out.extend(_month(network, key, year, month, counts) for year, month in months)
    out.append("</div>\n")
    return "".join(out)


def _channel_search(network: str, key: str) -> str:
    return (
        '<form class="search" action="/search" method="get">'
        f'<input type="hidden" name="net" value="{esc(network)}">'
        f'<input type="hidden" name="chan" value="{esc(key)}">'
        '<input type="search" name="q" placeholder="Search this channel" '
        'aria-label="Search this channel"><button type="submit">Search</button></form>\n'
    )


def rows(lines: Iterable[Line]) -> str:
    """Day-page rows for ``lines`` (the body of a page, or of a live update)."""
    return "".join([row(line.seq, line.record) for line in lines])


def _day_nav(network: str, key: str, previous: str | None, following: str | None) -> str:
    parts = []
    if previous:
        parts.append(f'<a rel="prev" href="{day_url(network, key, previous)}">← {previous}</a>')
    parts.append(f'<a href="{channel_url(network, key)}">calendar</a>')
    if following:
        parts.append(f'<a rel="next" href="{day_url(network, key, following)}">{following} →</a>')
    return f'<nav class="days">{" ".join(parts)}</nav>\n'


def day_body(
    site: str,
    network: str,
    key: str,
    name: str,
    day: str,
    lines: Sequence[Line],
    neighbours: tuple[str | None, str | None],
    *,
    live: bool,
    follow_interval: float,
    part: int = 1,
    parts: int = 1,
) -> str:
    """A day's page (``part`` of ``parts`` of it): every line with its permalink;
    ``live`` (today, the channel's last day) marks the log for the script to follow,
    and offers the no-script follow link."""
    previous, following = neighbours
    nav = _day_nav(network, key, previous, following) + _parts_nav(network, key, day, part, parts)
    url = day_url(network, key, day)
    out = [
        _crumbs(
            ("/", esc(site)),
            (f"/{quote(network)}/", plain(network)),
            (channel_url(network, key), f"<bdi>{plain(name)}</bdi>"),
            (None, esc(day)),
        ),
        f"<h1><bdi>{plain(name)}</bdi> <small>{esc(day)}</small></h1>\n",
        nav,
    ]
    follow = ""
    if live:
        last = lines[-1].seq if lines else 0
        follow = (
            f' data-follow="{esc(url)}/after/" data-last="{last}"'
            f' data-interval="{follow_interval:g}"'
        )
        out.append(
            '<p class="note" id="live">Today: new lines appear as they are written.'
            f' <a class="nojs" href="{esc(follow_url(network, key, day, part))}">'
            f"Follow (reloads every {follow_interval:g} s)</a></p>\n"
        )
    if not lines:
        out.append('<p class="note">No lines.</p>\n')
    out.append(f'<div id="log" class="log"{follow}>\n{rows(lines)}</div>\n')
    out.append(f'<div id="end"></div>{nav}')
    return "".join(out)


def follow_url(network: str, key: str, day: str, part: int) -> str:
    """The no-script live page: this part of the day, reloading itself, at its end."""
    url = day_url(network, key, day, part=part)
    return url + ("&" if "?" in url else "?") + "follow=1#end"


def _parts_nav(network: str, key: str, day: str, part: int, parts: int) -> str:
    if parts <= 1:
        return ""
    links = []
    if part > 1:
        links.append(f'<a href="{day_url(network, key, day, part=part - 1)}">← earlier lines</a>')
    links.append(f"<span>part {part} of {parts}</span>")
    if part < parts:
        links.append(f'<a href="{day_url(network, key, day, part=part + 1)}">later lines →</a>')
    return f'<nav class="days parts">{" ".join(links)}</nav>\n'


@dataclass(frozen=True)
class SearchForm:
    """What the search form holds (as typed: shown back escaped)."""

    q: str = ""
    net: str = ""
    chan: str = ""
    nick: str = ""
    type: str = ""
    since: str = ""
    until: str = ""
    page: int = 1


def _field(name: str, label: str, value: str, kind: str = "text", extra: str = "") -> str:
    return f'<label>{label}<input type="{kind}" name="{name}" value="{esc(value)}"{extra}></label>'


def _select(name: str, label: str, value: str, options: Iterable[str], blank: str) -> str:
    choices = [f'<option value="">{blank}</option>']
    for option in options:
        chosen = " selected" if option == value else ""
        choices.append(f'<option value="{esc(option)}"{chosen}>{plain(option)}</option>')
    return f'<label>{label}<select name="{name}">{"".join(choices)}</select></label>'


def _search_form(form: SearchForm, networks: Sequence[str], max_query: int) -> str:
    return "".join(
        [
            '<form class="search" action="/search" method="get">',
            _field("q", "Words", form.q, "search", f' maxlength="{max_query}"'),
            _select("net", "Network", form.net, networks, "any"),
            _field("chan", "Channel", form.chan),
            _field("nick", "Nick", form.nick),
            _select("type", "Type", form.type, EVENT_TYPES, "any"),
            _field("since", "Since", form.since, "date"),
            _field("until", "Until", form.until, "date"),
            '<button type="submit">Search</button></form>\n',
        ]
    )


def _hit(hit: Hit) -> str:
    link = day_url(hit.network, hit.channel, hit.day, hit.seq)
    record: Mapping[str, Any] = hit.record
    channel = record.get("channel")
    name = channel if isinstance(channel, str) and channel else hit.channel
    where = (
        f'<div class="where"><a href="{esc(link)}">{plain(hit.network)} '
        f"<bdi>{plain(name)}</bdi> {esc(hit.day)} {time_of(record)}</a></div>"
    )
    return f"<li>{where}{row(hit.seq, record, link)}</li>\n"


def search_body(
    form: SearchForm,
    networks: Sequence[str],
    hits: Sequence[Hit] | None,
    *,
    more: bool,
    per_page: int,
    max_query: int,
    problem: str | None = None,
) -> str:
    """The search form, then the hits (newest first) with pages; ``hits`` None: no
    search made yet; ``problem``: why the search could not be made."""
    out = ["<h1>Search</h1>\n", _search_form(form, networks, max_query)]
    if problem is not None:
        out.append(f'<p class="note" role="alert">{esc(problem)}</p>\n')
    if hits is None:
        return "".join(out)
    first = (form.page - 1) * per_page + 1
    if not hits:
        out.append('<p class="note">No lines found.</p>\n')
    else:
        out.append(f'<p class="note">Lines {first}–{first + len(hits) - 1}, newest first.</p>\n')
        out.append('<ol class="hits">\n')
        out.extend(_hit(hit) for hit in hits)
        out.append("</ol>\n")
    links = []
    if form.page > 1:
        links.append(f'<a rel="prev" href="{esc(_page_url(form, form.page - 1))}">← newer</a>')
    if more:
        links.append(f'<a rel="next" href="{esc(_page_url(form, form.page + 1))}">older →</a>')
    if links:
        out.append(f'<nav class="days">{" ".join(links)}</nav>\n')
    return "".join(out)


def _page_url(form: SearchForm, page: int) -> str:
    fields = [
        ("q", form.q),
        ("net", form.net),
        ("chan", form.chan),
        ("nick", form.nick),
        ("type", form.type),
        ("since", form.since),
        ("until", form.until),
    ]
    query = "&".join(f"{name}={quote(value)}" for name, value in fields if value)
    return f"/search?{query}&page={page}"
