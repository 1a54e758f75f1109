"""Which log files a scan reads, and what their paths say.

Why it lists before it reads: the progress bar needs the total, and the order of the
files decides the order of the lines (a line's ``seq`` counts the lines of its day
in the order they were written: a day's size-rotated parts first, the live file last).

Every ``.jsonl``, ``.jsonl.gz``, ``.log`` and ``.log.gz`` under the root is found
without following a symbolic link (a link to ``/`` must not make the scan read the
machine).  A day written in both formats is read once, from the jsonl file (it holds
every field): a text file is left out when a jsonl file of the same name (compressed
or not) is beside it.  A file and its ``.gz`` side by side (housekeeping compressing
it) is read from the plain file, the ``.gz`` being unfinished.

The path says the network, the channel and the day when it matches one of the
config's path templates (``logging.path``, default ``{network}/{channel}/{date}``;
the top level's, each network's and each channel's): the components are unescaped
with :func:`~logbot.logs.paths.unescape_component`.  A jsonl record says them itself;
a text line does not, so a text file that matches no template is not read (and is
counted): where its lines come from is unknown.
"""

from __future__ import annotations

import os
import re
import stat
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from logbot.archive.model import channel_key
from logbot.config.settings import DEFAULT_PATH, Config, LogOptions
from logbot.logs.paths import unescape_component

__all__ = ["LogFile", "Template", "find_files", "options_for", "templates_of"]

#: The suffixes of the files read, the format each is in.
_FORMATS = ((".jsonl.gz", "jsonl", True), (".jsonl", "jsonl", False),
            (".log.gz", "text", True), (".log", "text", False))  # fmt: skip
_PART = re.compile(r"\.([0-9]{3,})$")
#: The fields a template may name (``logbot.logs.paths.render_path``).
_FIELDS = ("network", "channel", "date")


@dataclass(frozen=True)
class Template:
    """A path template (``logging.path``) as a pattern over a file's path without its
    suffixes; ``date_format`` is its ``{date:...}`` format (``%Y-%m-%d`` for a bare
    ``{date}``), None when it names no date."""

    text: str
    pattern: re.Pattern[str]
    date_format: str | None


@dataclass(frozen=True, slots=True)
class LogFile:
    """One file to read.  ``rel`` is its path under the root (POSIX); ``base`` the same
    without the format suffix, ``.gz`` and the part number, which its day's other files
    share; ``part`` its size-rotation part (None for the live file).  ``network``,
    ``channel`` (the folded name the path holds) and ``day`` are what the path says, or
    None."""

    path: Path
    rel: str
    fmt: str  # "jsonl" or "text"
    gz: bool
    size: int
    base: str
    part: int | None
    network: str | None
    channel: str | None
    day: date | None

    @property
    def order(self) -> tuple[str, date, str, int, int]:
        """Sorts the files folder by folder, day by day, a day's files in the order
        they were written (its parts by number, then the live file)."""
        folder = self.rel.rpartition("/")[0]
        day = self.day or date.min
        return folder, day, self.base, *((1, 0) if self.part is None else (0, self.part))


def _template(text: str) -> Template | None:
    """The :class:`Template` of a ``logging.path``, or None if it cannot be read."""
    stem = text
    for suffix in (".jsonl", ".log"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    regex = []
    date_format: str | None = None
    seen: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(stem))
    except ValueError:
        return None
    for literal, name, spec, conversion in parsed:
        regex.append(re.escape(literal))
        if name is None:
            continue
        if name not in _FIELDS or conversion:
            return None
        if name == "date":
            if "date" not in seen:  # the day is read from the first date only
                regex.append("(?P<date>[^/]+?)")
                date_format = spec or "%Y-%m-%d"
            else:
                regex.append("(?:[^/]+?)")
        else:
            regex.append(f"(?P<{name}>[^/]+)" if name not in seen else f"(?P={name})")
        seen.add(name)
    try:
        pattern = re.compile("".join(regex))
    except re.error:
        return None
    return Template(text, pattern, date_format)


def templates_of(config: Config) -> list[Template]:
    """The distinct path templates of ``config``, the top level's first."""
    texts = [config.log.path]
    for net in config.networks:
        texts.append(net.log.path)
        texts.extend(channel.log.path for channel in net.channels)
    texts.append(DEFAULT_PATH)
    out = []
    for text in dict.fromkeys(texts):
        template = _template(text)
        if template is not None:
            out.append(template)
    return out


def _unescaped(component: str | None) -> str | None:
    if component is None:
        return None
    try:
        return unescape_component(component)
    except ValueError:  # a cut (over-long) name: the escaped form is all there is
        return component


def _day(value: str | None, fmt: str | None) -> date | None:
    if value is None or fmt is None or not all(d in fmt for d in ("%Y", "%m", "%d")):
        return None
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        return None


def _format_of(name: str) -> tuple[str, str, bool] | None:
    """(suffix, format, compressed) of a log file's name, or None for another file."""
    for suffix, fmt, gz in _FORMATS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix, fmt, gz
    return None


def _describe(
    path: Path, rel: str, size: int, known: tuple[str, str, bool], templates: Iterable[Template]
) -> LogFile:
    """What the path of a log file says."""
    suffix, fmt, gz = known
    stem = rel[: -len(suffix)]
    m = _PART.search(stem)
    part = int(m[1]) if m is not None else None
    base = stem[: m.start()] if m is not None else stem
    for template in templates:
        for candidate, its_part in ((base, part), (stem, None)):
            found = template.pattern.fullmatch(candidate)
            if found is None:
                continue
            fields = found.groupdict()
            return LogFile(path, rel, fmt, gz, size, candidate, its_part,
                           _unescaped(fields.get("network")), _unescaped(fields.get("channel")),
                           _day(fields.get("date"), template.date_format))  # fmt: skip
    return LogFile(path, rel, fmt, gz, size, base, part, None, None, None)


def find_files(root: Path, templates: list[Template]) -> tuple[list[LogFile], list[str]]:
    """The log files under ``root`` to read, in the order their lines were written
    (channel by channel, day by day), and the paths (relative) of the text files that
    match no template.  Unreadable folders are passed over silently: their files are
    not there to count."""
    found: dict[str, dict[tuple[str, bool], LogFile]] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as entries:
                listed = list(entries)
        except OSError:
            continue
        for entry in listed:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # links, sockets, fifos: never read
            known = _format_of(entry.name)
            if known is None:
                continue
            one = _describe(Path(entry.path), rel, st.st_size, known, templates)
            found.setdefault(rel[: -len(known[0])], {})[(one.fmt, one.gz)] = one
    files: list[LogFile] = []
    unplaced: list[str] = []
    for variants in found.values():
        fmt = "jsonl" if any(f == "jsonl" for f, _ in variants) else "text"
        chosen = variants.get((fmt, False)) or variants[(fmt, True)]
        if chosen.fmt == "text" and chosen.channel is None:
            unplaced.append(chosen.rel)
            continue
        files.append(chosen)
    files.sort(key=lambda f: f.order)
    return files, sorted(unplaced)


def options_for(config: Config, network: str | None, channel: str | None) -> LogOptions:
    """The log options a channel's files were written with (its layout, time format and
    time zone), as the config says now: the channel's, else its network's, else the
    top level's."""
    for net in config.networks:
        if net.name != network:
            continue
        if channel is not None:
            key = channel_key(channel)
            for chan in net.channels:
                if channel_key(chan.name) == key:
                    return chan.log
        return net.log
    return config.log
