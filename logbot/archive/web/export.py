"""The static export: the web view's pages written as files (``logbot export-html OUT``).

Why: irclog2html's way of publishing, which many prefer to running a server: the files
go to any web server (or are opened from disk), and nothing of logbot faces the
network.  The pages are the web view's own (:mod:`.pages` in :func:`.html.page`), for
the channels the web view would show (:class:`~.access.Publisher`: a private log
never), with three differences a page without a server needs:

- no script and no search form (nothing answers them; a day page is never "live"),
  and the Content-Security-Policy in a ``<meta>``, as a file server sends no headers;
- every link is relative and names a file (``../../demo/%23demo/2026-12-06.html``), so
  the tree works from any folder of any server and from ``file://``: the pages are
  made with the web view's absolute links, which :func:`relink` then maps to files;
- names from IRC become file names only through :func:`file_name`, which escapes
  whatever some file system refuses or a browser would misread.

The layout: ``index.html``; ``<net>/index.html``; ``<net>/<chan>/index.html`` (the
calendar); ``<net>/<chan>/<YYYY-MM-DD>.html`` (a day; a day longer than
:data:`~.urls.PART_LINES` lines goes on in ``<day>.part2.html`` and on);
``static/style.css``.  Writing it is :mod:`.export_files`' part: every file is made
again, and written (through a temporary file) only if its bytes changed.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from logbot.archive.model import Line
from logbot.archive.web import pages
from logbot.archive.web.access import Publisher
from logbot.archive.web.assets import ASSETS
from logbot.archive.web.export_files import ExportError, OutFolder, Where
from logbot.archive.web.html import page
from logbot.archive.web.mirc import esc
from logbot.archive.web.urls import PART_LINES, BadURL, parse_query, quote, split_path

__all__ = [
    "MAX_NAME_CHARS",
    "ExportError",
    "ExportIndex",
    "Summary",
    "export",
    "file_name",
    "overlap",
    "relink",
]

#: The longest file or folder name made from a network's or channel's name
#: (characters, all ASCII): far below the 255 bytes every file system allows, with
#: room for the temporary file's prefix and suffix.  A longer one is cut and ends in a
#: hash of the whole name, so two long names stay two files.
MAX_NAME_CHARS = 120
_HASH_CHARS = 16
INDEX = "index.html"
STATIC = "static"
#: The assets an exported page links to (no script: an exported page has none).
STATIC_FILES = ("style.css",)

# Windows' device names (with any extension): no file may be called so there.
_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{kind}{n}" for kind in ("COM", "LPT") for n in range(1, 10)]
)
# Names of ours beside the network folders: a network so named is escaped.
_OURS = frozenset({INDEX, STATIC})
# Characters some file system refuses (Windows), ours (``%``), and the space.
_UNSAFE = frozenset('<>:"/\\|?*% ')
# An attribute of ours follows a space ("\b" in its place makes the search 20 times
# slower: it is tried at every character of a page).
_LINK = re.compile(r' (href|src)="(/[^"]*)"')


class ExportIndex(Protocol):
    """What the export reads from the index (:mod:`logbot.archive.index`)."""

    def networks(self) -> list[str]: ...

    def channels(self, network: str) -> list[Any]: ...

    def days(self, network: str, channel: str) -> list[tuple[str, int]]: ...

    def day_lines(
        self, network: str, channel: str, day: str, after: int = 0, limit: int | None = None
    ) -> list[Line]: ...


@dataclass(frozen=True)
class Summary:
    """What an export did: files written, files found unchanged, stale files removed,
    day pages made, and how long it took."""

    written: int
    unchanged: int
    removed: int
    days: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.written} files written, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.days} days, {self.seconds:.1f} s"
        )


def _escape_char(char: str) -> str:
    if " " < char < "\x7f" and char not in _UNSAFE:
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def file_name(name: str) -> str:
    """The file or folder name for a network's or channel's ``name``, safe on every file
    system and distinct for distinct names: ASCII only (anything else, control and
    invisible characters included, is ``%XX`` of its UTF-8, as are the characters
    Windows refuses, ``%`` and the space), never hidden or ending in a dot or space,
    never a device name or one of ours, at most :data:`MAX_NAME_CHARS` long.

    ``#`` stays itself (no file system minds it): ``#demo`` is the folder ``#demo``,
    linked as ``%23demo``."""
    pieces = [_escape_char(char) for char in name]
    if not pieces:
        return "%"  # an empty name ("%" is never made otherwise: "%" is escaped)
    if pieces[0] == ".":
        pieces[0] = "%2E"
    if pieces[-1] == ".":
        pieces[-1] = "%2E"
    out = "".join(pieces)
    if len(out) > MAX_NAME_CHARS:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        kept, size = [], 0
        for piece in pieces:  # cut between pieces, never inside a %XX
            if size + len(piece) > MAX_NAME_CHARS - _HASH_CHARS - 5:  # "%-", and "%XX" below
                break
            kept.append(piece)
            size += len(piece)
        # "%-" is never made by escaping: a cut name is never another name's whole one
        out = "".join(kept) + "%-" + digest[:_HASH_CHARS]
    if out.casefold() in _OURS or out.split(".")[0].upper() in _DEVICES:
        out = f"%{ord(out[0]):02X}{out[1:]}"  # an ASCII letter: now neither
    return out


# -- where each page goes, and links between them ----------------------------------------


def day_file(network: str, key: str, day: str, part: int = 1) -> Where:
    name = f"{day}.html" if part == 1 else f"{day}.part{part}.html"
    return (file_name(network), file_name(key), name)


def _target(url: str) -> tuple[Where, str]:
    """The file (and fragment) the web view's link ``url`` (unescaped) stands for.

    :raises ValueError: a link to something the export does not have (search): a page
        of ours that makes one is a bug, never published with a dead link."""
    rest, _, fragment = url.partition("#")
    path, _, _ = rest.partition("?")
    try:
        segments = split_path(path)
        fields = parse_query(rest)
    except BadURL as e:
        raise ValueError(f"the export cannot link to {url!r}: {e}") from None
    count = len(segments)
    if segments == [""]:
        return (INDEX,), fragment
    if count == 2 and segments[0] == STATIC and segments[1] in STATIC_FILES:
        return (STATIC, segments[1]), fragment
    if count == 2 and segments[1] == "":
        return (file_name(segments[0]), INDEX), fragment
    if count == 3 and segments[2] == "":
        return (file_name(segments[0]), file_name(segments[1]), INDEX), fragment
    if count == 3 and not set(fields) - {"part"}:
        part = fields.get("part", "1")
        if part.isdigit() and int(part) >= 1:
            return day_file(segments[0], segments[1], segments[2], int(part)), fragment
    raise ValueError(f"the export has no file for the link {url!r}")


def _relative(here: Where, there: Where) -> str:
    """The relative URL of the file ``there`` from the file ``here``."""
    folder = here[:-1]
    common = 0
    while common < min(len(folder), len(there) - 1) and folder[common] == there[common]:
        common += 1
    steps = [".."] * (len(folder) - common) + [quote(name) for name in there[common:]]
    return "/".join(steps)


def relink(text: str, here: Where) -> str:
    """The page ``text`` (made for the web view) with every absolute link (``href`` and
    ``src`` starting with ``/``) made relative to the file ``here``.  Only links of our
    own start so: a link in a line is ``http(s)://``, and a line's text cannot hold a
    raw ``"``, so no text of a line is ever taken for an attribute here."""

    def swap(match: re.Match[str]) -> str:
        there, fragment = _target(html.unescape(match.group(2)))
        url = _relative(here, there) + (f"#{quote(fragment)}" if fragment else "")
        return f' {match.group(1)}="{esc(url)}"'

    return _LINK.sub(swap, text)


# -- the export -------------------------------------------------------------------------


def overlap(out: Path, *protected: Path) -> Path | None:
    """The first of ``protected`` (the log root, the index file) that ``out`` is in, or
    that is in ``out``, or None.  Why: an export into the log root would put pages
    among the logs (and publish them with the pages); an index or log root inside the
    export would be published itself, private logs and all."""
    here = out.resolve()
    for path in protected:
        there = path.resolve()
        if here == there or here.is_relative_to(there) or there.is_relative_to(here):
            return path
    return None


class _Export:
    def __init__(
        self, index: ExportIndex, publisher: Publisher, title: str, folder: OutFolder
    ) -> None:
        self.index = index
        self.publisher = publisher
        self.title = title
        self.folder = folder
        self.days = 0

    def listing(self) -> list[tuple[str, list[tuple[Any, list[tuple[str, int]]]]]]:
        """The published networks (the config's order) that have logs, each with its
        published channels and their days (with their line counts)."""
        have = set(self.index.networks())
        out = []
        for network in self.publisher.networks():
            if network not in have:
                continue
            channels = [
                (info, self.index.days(network, info.key))
                for info in self.index.channels(network)
                if self.publisher.shows(network, info.key)
            ]
            out.append((network, channels))
        _check_names([network for network, _ in out], "networks")
        for network, channels in out:
            _check_names([info.key for info, _ in channels], f"channels of {network}")
        return out

    def page(self, here: Where, title: str, body: str) -> None:
        text = page(self.title, title, body, static=True)
        self.folder.write(here, relink(text, here).encode("utf-8", "replace"))

    def run(self, since: str | None) -> None:
        for name in STATIC_FILES:
            self.folder.write((STATIC, name), ASSETS[name][1])
        listing = self.listing()
        rows = [
            (network, [_row(info, len(days)) for info, days in channels])
            for network, channels in listing
        ]
        self.page((INDEX,), "", pages.channels_body(self.title, rows))
        for network, channel_rows in rows:
            body = pages.channels_body(self.title, [(network, channel_rows)])
            self.page((file_name(network), INDEX), network, body)
        for network, channels in listing:
            for info, days in channels:
                self.channel(network, info.key, info.name, days, since)

    def channel(
        self, network: str, key: str, name: str, days: list[tuple[str, int]], since: str | None
    ) -> None:
        body = pages.calendar_body(self.title, network, key, name, days, search=False)
        self.page((file_name(network), file_name(key), INDEX), name, body)
        for i, (day, count) in enumerate(days):
            parts = max(1, -(-count // PART_LINES))
            if since is not None and day < since:
                for part in range(1, parts + 1):
                    self.folder.keep(day_file(network, key, day, part))
                continue
            previous = days[i - 1][0] if i > 0 else None
            following = days[i + 1][0] if i + 1 < len(days) else None
            for part in range(1, parts + 1):
                after = (part - 1) * PART_LINES
                lines = self.index.day_lines(network, key, day, after=after, limit=PART_LINES)
                body = pages.day_body(
                    self.title, network, key, name, day, lines, (previous, following),
                    live=False, follow_interval=0, part=part, parts=parts,
                )  # fmt: skip
                self.page(day_file(network, key, day, part), f"{name} {day}", body)
            self.days += 1


def _row(info: Any, days: int) -> pages.ChannelRow:
    return pages.ChannelRow(info.key, info.name, days, info.lines, info.last_day)


def _check_names(names: Iterable[str], what: str) -> None:
    """Two names that would be one folder on a case-insensitive file system (networks
    ``Libera`` and ``libera``; channel keys are folded already) stop the export."""
    seen: dict[str, str] = {}
    for name in names:
        folded = file_name(name).casefold()
        if folded in seen:
            raise ExportError(
                f"the {what} {seen[folded]!r} and {name!r} would share a folder "
                "on a case-insensitive file system: rename one"
            )
        seen[folded] = name


def export(
    index: ExportIndex,
    publisher: Publisher,
    title: str,
    out: Path,
    *,
    since: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Summary:
    """Write the pages of the channels ``publisher`` shows into the folder ``out`` (made
    if missing); ``since`` (``YYYY-MM-DD``): only the day pages from that day on are
    made again, older ones are left as they are.

    :raises ExportError, OSError: a file cannot be written (a symbolic link in the way,
        a full disk, another export into ``out`` running).
    """
    started = clock()
    with OutFolder(out) as folder:
        job = _Export(index, publisher, title, folder)
        job.run(since)
        removed = folder.finish()
        return Summary(folder.written, folder.unchanged, removed, job.days, clock() - started)
