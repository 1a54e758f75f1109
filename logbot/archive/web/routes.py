"""The web view's URLs, answered from the index under the publishing rules.

``/`` the networks and their published channels; ``/<net>/`` one network's;
``/<net>/<chan>/`` a channel's calendar; ``/<net>/<chan>/<YYYY-MM-DD>`` a day (with
``?follow=1``: the same page reloading itself, for a live day without a script);
``/<net>/<chan>/<day>/after/<seq>`` the lines after ``seq`` as JSON (what the script of
a live page polls); ``/search?q=...`` the search; ``/static/<name>`` the stylesheet
and the script.  ``<chan>`` is the channel's key (a segment of our own links, say
``%23demo``); another spelling of it is redirected there.

Why it answers as it does: every request is first checked for credentials (``401``
before anything, so nothing is learned without them), then only GET and HEAD are
served (``405``); a path or query that cannot be decoded is ``400``; a channel that is
not published is the very ``404`` of a channel that does not exist.  Nothing from the
URL reaches the file system: names are looked up among those the index gives, and
``/static/`` serves only :data:`~logbot.archive.web.assets.ASSETS`.  Every answer
carries :data:`~logbot.archive.web.html.SECURITY_HEADERS`.  The search (words only:
anyone may type one, so no regular expression) runs over the published channels
alone, one query per network whose channels are all published, else one per channel.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from logbot.archive.model import ArchiveUnavailable, Hit, Line, Query, channel_key
from logbot.archive.web import pages, urls
from logbot.archive.web.access import Guard, Publisher
from logbot.archive.web.assets import ASSETS
from logbot.archive.web.html import SECURITY_HEADERS, page
from logbot.archive.web.mirc import esc
from logbot.archive.web.search import MAX_QUERY_CHARS, SearchProblem, read_form, run_search
from logbot.archive.web.urls import BadURL, channel_url, day_url, parse_query, quote, split_path
from logbot.config.settings import WebOptions
from logbot.health.http import REASONS, Request, Response

__all__ = [
    "FOLLOW_BATCH",
    "RETRY_AFTER",
    "ArchiveIndex",
    "WebApp",
]

log = logging.getLogger("logbot.archive.web")

#: The most lines one poll of a live page gets (the script asks again at once for
#: the rest): a page left open over a busy hour must not ask for all of it at once.
FOLLOW_BATCH = 500
#: Seconds a client is told to wait (``Retry-After``) when the archive's database is
#: down: the feed retries every second, a page need not.
RETRY_AFTER = 30
HTML = "text/html; charset=utf-8"
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_SEQ = re.compile(r"\d{1,9}")
_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)$|Z$")


class ArchiveIndex(Protocol):
    """What the web view reads from the index (:mod:`logbot.archive.index`)."""

    def networks(self) -> list[str]: ...

    def channels(self, network: str) -> list[Any]: ...

    def days(self, network: str, channel: str) -> list[tuple[str, int]]: ...

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]: ...

    def neighbours(self, network: str, channel: str, day: str) -> tuple[str | None, str | None]: ...

    def search(self, query: Query, context: int = 0) -> list[Hit]: ...


def _valid_day(text: str) -> bool:
    if not _DAY.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _header(request: Request, name: str) -> str | None:
    for key, value in request.headers:
        if key == name:
            return value
    return None


class WebApp:
    """Answers the web view's requests: ``handle(request) -> Response``.

    ``wall()`` is the wall-clock time (Unix seconds: which day is today, for a live
    page); not the reactor's clock, which is monotonic."""

    def __init__(self, options: WebOptions, index: ArchiveIndex, wall: Callable[[], float]) -> None:
        self.options = options
        self.index = index
        self.wall = wall
        self.publisher = Publisher(options.publish)
        self.guard = Guard(options.user, options.password, options.token)

    # -- the door ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        response = self._answer(request)
        return dataclasses.replace(response, headers=response.headers + SECURITY_HEADERS)

    def _answer(self, request: Request) -> Response:
        if not self.guard.allows(_header(request, "authorization")):
            return self._error(401, self.guard.challenge())
        if request.method not in ("GET", "HEAD"):
            return self._error(405, (("Allow", "GET, HEAD"),))
        try:
            segments = split_path(request.path)
            fields = parse_query(request.target)
        except BadURL:
            return self._error(400)
        try:
            return self._route(segments, fields)
        except ArchiveUnavailable as e:  # the database is down: not a bug, say so
            log.warning("web: %s", e)
            return self._error(503, (("Retry-After", str(RETRY_AFTER)),))

    def _route(self, segments: list[str], fields: dict[str, str]) -> Response:
        count = len(segments)
        first = segments[0]
        if count == 1 and first == "":
            return self._html("", pages.channels_body(self.options.title, self._listing()))
        if count == 1 and first == "search":
            return self._search(fields)
        if count == 2 and first == "static" and segments[1] in ASSETS:
            content_type, asset = ASSETS[segments[1]]
            return Response(200, asset, content_type)
        if not self.publisher.shows_network(first) or first not in self.index.networks():
            return self._error(404)
        if count == 1:
            return self._redirect(f"/{quote(first)}/")
        if count == 2 and segments[1] == "":
            listing = self._listing(only=first)
            return self._html(first, pages.channels_body(self.options.title, listing))
        found = self._channel(first, segments[1])
        if found is None:
            return self._error(404)
        key, name = found
        rest = segments[2:]
        if key != segments[1]:
            tail = "/".join(quote(part) for part in rest)
            query = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items())
            where = f"/{quote(first)}/{quote(key)}/{tail}"
            return self._redirect(f"{where}?{query}" if query else where)
        if not rest:
            return self._redirect(channel_url(first, key))
        if rest == [""]:
            days = self.index.days(first, key)
            body = pages.calendar_body(self.options.title, first, key, name, days)
            return self._html(name, body)
        if not _valid_day(rest[0]):
            return self._error(404)
        if len(rest) == 1:
            return self._day(first, key, name, rest[0], fields)
        if len(rest) == 3 and rest[1] == "after" and _SEQ.fullmatch(rest[2]):
            return self._after(first, key, rest[0], int(rest[2]))
        return self._error(404)

    # -- answers -----------------------------------------------------------------------

    def _html(self, title: str, body: str, head: str = "", status: int = 200) -> Response:
        text = page(self.options.title, title, body, head=head, max_query=MAX_QUERY_CHARS)
        return Response(status, text.encode("utf-8", "replace"), HTML)

    def _error(self, status: int, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """An error page; every missing or hidden thing gets the same one."""
        reason = REASONS[status]
        body = f'<h1>{status} {reason}</h1>\n<p><a href="/">Back to the channels</a></p>\n'
        text = page(self.options.title, reason, body, max_query=MAX_QUERY_CHARS)
        return Response(status, text.encode(), HTML, headers)

    def _redirect(self, location: str) -> Response:
        return Response(301, b"", HTML, (("Location", location),))

    # -- lookups -----------------------------------------------------------------------

    def _channel(self, network: str, segment: str) -> tuple[str, str] | None:
        """``(key, latest name)`` of a published channel with logs, else None."""
        if not self.publisher.shows(network, segment):
            return None
        key = channel_key(segment)
        for info in self.index.channels(network):
            if info.key == key:
                return key, info.name
        return None

    def _visible(self, network: str) -> list[Any]:
        return [c for c in self.index.channels(network) if self.publisher.shows(network, c.key)]

    def _listing(self, only: str | None = None) -> list[tuple[str, list[pages.ChannelRow]]]:
        have = set(self.index.networks())
        out = []
        for network in self.publisher.networks():
            if network not in have or (only is not None and network != only):
                continue
            rows = [
                pages.ChannelRow(
                    info.key,
                    info.name,
                    len(self.index.days(network, info.key)),
                    info.lines,
                    info.last_day,
                )
                for info in self._visible(network)
            ]
            out.append((network, rows))
        return out

    # -- a day -------------------------------------------------------------------------

    def _today(self, record: Any) -> str | None:
        """Today's date in the time zone (the UTC offset) of ``record``'s time."""
        time = record.get("time")
        match = _OFFSET.search(time) if isinstance(time, str) else None
        if match is None:
            return None
        offset = datetime.timedelta(0)
        if match.group(1):
            offset = datetime.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
            offset = -offset if match.group(1) == "-" else offset
        try:
            zone = datetime.timezone(offset)
            now = datetime.datetime.fromtimestamp(self.wall(), zone)
        except (ValueError, OverflowError, OSError):
            return None
        return now.date().isoformat()

    def _day(self, network: str, key: str, name: str, day: str, fields: dict[str, str]) -> Response:
        count = dict(self.index.days(network, key)).get(day, 0)
        parts = -(-count // urls.PART_LINES)
        part_text = fields.get("part", "1")
        if not _SEQ.fullmatch(part_text) or not 1 <= int(part_text) <= parts:
            return self._error(404)
        part = int(part_text)
        after = (part - 1) * urls.PART_LINES
        lines = self.index.day_lines(network, key, day, after=after, limit=urls.PART_LINES)
        if not lines:
            return self._error(404)
        neighbours = self.index.neighbours(network, key, day)
        live = part == parts and neighbours[1] is None and self._today(lines[-1].record) == day
        interval = self.options.follow_interval
        body = pages.day_body(
            self.options.title,
            network,
            key,
            name,
            day,
            lines,
            neighbours,
            live=live,
            follow_interval=interval,
            part=part,
            parts=parts,
        )
        head = ""
        if live and fields.get("follow") == "1":
            seconds = max(1, round(interval))
            again = pages.follow_url(network, key, day, part)
            head = f'<meta http-equiv="refresh" content="{seconds}; url={esc(again)}">\n'
        return self._html(f"{name} {day}", body, head)

    def _after(self, network: str, key: str, day: str, after: int) -> Response:
        lines = self.index.day_lines(network, key, day, after=after, limit=FOLLOW_BATCH)
        following = self.index.neighbours(network, key, day)[1]
        data = {
            "html": pages.rows(lines),
            "last": lines[-1].seq if lines else after,
            "more": len(lines) >= FOLLOW_BATCH,
            "next": day_url(network, key, following) if following else None,
        }
        body = json.dumps(data, ensure_ascii=True).encode()
        return Response(200, body, "application/json")

    # -- search ------------------------------------------------------------------------

    def _search(self, fields: dict[str, str]) -> Response:
        have = set(self.index.networks())
        networks = [n for n in self.publisher.networks() if n in have]
        per_page = self.options.max_results
        try:
            form, query = read_form(fields, per_page)
            hits, more = None, False
            if query is not None:
                hits, more = run_search(self.index, self.publisher, form, query)
        except SearchProblem as problem:
            body = pages.search_body(
                problem.form, networks, None, more=False, per_page=per_page,
                max_query=MAX_QUERY_CHARS, problem=str(problem),
            )  # fmt: skip
            return self._html("Search", body, status=400)
        body = pages.search_body(
            form, networks, hits, more=more, per_page=per_page, max_query=MAX_QUERY_CHARS
        )
        return self._html("Search", body)
