"""Other programs' old logs brought into logbot's files: ``logbot import``.

Why: a user switching to logbot keeps their history.  Four loggers are read, each in
its default layout, each in a module of its own that cites where that layout comes
from: :mod:`~logbot.archive.imports.limnoria` (Limnoria's and Supybot's
ChannelLogger), :mod:`~logbot.archive.imports.irssi` (its autolog),
:mod:`~logbot.archive.imports.znc` (its log module) and
:mod:`~logbot.archive.imports.weechat` (its logger plugin).  An importer only turns a
file's lines into records (:mod:`~logbot.archive.imports.source` says what a line can
give); :mod:`~logbot.archive.imports.run` reads the files channel by channel and
:mod:`~logbot.archive.imports.write` writes their days as logbot's own files, never
over a day that is already logged unless asked to merge
(:mod:`~logbot.archive.imports.merge`).

This is the one part of :mod:`logbot.archive` that writes under the log root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from logbot.archive.imports import irssi, limnoria, weechat, znc
from logbot.archive.imports.source import FileName, Item, Source

__all__ = ["IMPORTERS", "PROGRAMS", "Importer"]


@dataclass(frozen=True)
class Importer:
    """One program's reader: ``name_of`` says what a file's name gives (None: not a log
    file of this program), ``parse`` turns its lines into items, ``precision`` is the
    seconds its times cover, ``needs_day``: its lines have no date, the name must."""

    name: str
    name_of: Callable[[Path], FileName | None]
    parse: Callable[[Iterable[tuple[int, str]], Source], Iterator[Item]]
    precision: int
    needs_day: bool = False


IMPORTERS: dict[str, Importer] = {
    limnoria.PROGRAM: Importer(
        limnoria.PROGRAM, limnoria.name_of, limnoria.parse, limnoria.PRECISION
    ),
    irssi.PROGRAM: Importer(irssi.PROGRAM, irssi.name_of, irssi.parse, irssi.PRECISION),
    znc.PROGRAM: Importer(znc.PROGRAM, znc.name_of, znc.parse, znc.PRECISION, needs_day=True),
    weechat.PROGRAM: Importer(weechat.PROGRAM, weechat.name_of, weechat.parse, weechat.PRECISION),
}
#: The programs ``logbot import --from`` takes.
PROGRAMS = tuple(IMPORTERS)
