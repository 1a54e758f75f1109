"""The ``text_layout`` and ``time_format`` logging options: what they may be.

Why a module of its own, below the log code: a time format is not only written, it is
read back (``!grep`` and ``!last`` read the text log of a channel without jsonl, and so
does the history deduplication), so the config must refuse any format that logbot could
not read, and the readers (:mod:`logbot.logs.textread`) must read exactly what the
config lets by.  Both use the one table here: the strftime directives allowed, each
with the pattern of what it writes.  Names of months and days are the C locale's
(English), the only one logbot runs in (it never calls ``setlocale``).
"""

from __future__ import annotations

import datetime
import re

__all__ = [
    "LAYOUTS",
    "LAYOUT_TIMES",
    "MONTHS",
    "check_time_format",
    "has_date",
    "has_seconds",
    "stamp_pattern",
]

#: The layouts the config may choose, the default first.
LAYOUTS = ("limnoria", "irssi", "znc")
#: Each layout's own time format: what Limnoria's ChannelLogger, irssi's autolog and
#: ZNC's log module write by default.
LAYOUT_TIMES = {"limnoria": "%Y-%m-%dT%H:%M:%S", "irssi": "%H:%M", "znc": "[%H:%M:%S]"}

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The directives a time format may use, and the pattern of what each writes.
_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d\d",
    "m": r"\d\d",
    "b": "|".join(MONTHS),
    "d": r"\d\d",
    "j": r"\d{3}",
    "a": "|".join(_DAYS),
    "H": r"\d\d",
    "I": r"\d\d",
    "p": "AM|PM",
    "M": r"\d\d",
    "S": r"\d\d",
    "f": r"\d{6}",
    "z": r"[+-]\d{4}",
}
_SHORTHANDS = {"F": "%Y-%m-%d", "T": "%H:%M:%S", "R": "%H:%M"}
_ALLOWED = "".join(sorted(_DIRECTIVES)) + "".join(_SHORTHANDS)


def _parts(fmt: str) -> list[tuple[str, str]]:
    """``fmt`` as ("lit", text) and ("dir", letter) parts, the shorthands expanded;
    ValueError naming the first directive that is not allowed."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(("lit", c))
            i += 1
            continue
        letter = fmt[i + 1 : i + 2]
        i += 2
        if letter == "%":
            out.append(("lit", "%"))
        elif letter in _SHORTHANDS:
            out.extend(_parts(_SHORTHANDS[letter]))
        elif letter in _DIRECTIVES:
            out.append(("dir", letter))
        else:
            raise ValueError(
                f"%{letter} is not a directive logbot can read back (use "
                + ", ".join(f"%{c}" for c in _ALLOWED)
                + " or %%)"
                if letter
                else "a lone % at the end (write %% for a percent sign)"
            )
    return out


def check_time_format(fmt: str) -> str | None:
    """None if ``fmt`` is a usable ``time_format``, else why not.

    It must give the hour (``%H``, or ``%I`` with ``%p``) and the minute, each
    directive at most once (a reader could not tell which one to believe), and be
    printable: the time is the start of a line that tools split on whitespace."""
    if not fmt:
        return "must not be empty"
    if not fmt.isprintable():
        return "must hold printable characters only"
    try:
        letters = [text for kind, text in _parts(fmt) if kind == "dir"]
    except ValueError as e:
        return str(e)
    twice = sorted({c for c in letters if letters.count(c) > 1})
    if twice:
        return "gives " + ", ".join(f"%{c}" for c in twice) + " more than once"
    if "M" not in letters or not ("H" in letters or {"I", "p"} <= set(letters)):
        return "must give the hour (%H, or %I with %p) and the minute (%M)"
    if "I" in letters and "H" in letters:
        return "gives the hour twice (%H and %I)"
    return None


def stamp_pattern(fmt: str) -> str:
    """A regular expression matching what ``fmt`` writes, each directive in a named
    group (``(?P<Y>...)``); ``fmt`` must pass :func:`check_time_format`."""
    return "".join(
        re.escape(text) if kind == "lit" else f"(?P<{text}>{_DIRECTIVES[text]})"
        for kind, text in _parts(fmt)
    )


def has_date(fmt: str) -> bool:
    """Whether ``fmt`` writes the whole date (year, and month and day or day of year):
    else the date of a line is its file's, which the path must then give."""
    letters = {text for kind, text in _parts(fmt) if kind == "dir"}
    return bool(letters & {"Y", "y"}) and (
        "j" in letters or (bool(letters & {"m", "b"}) and "d" in letters)
    )


def has_seconds(fmt: str) -> bool:
    """Whether ``fmt`` writes the seconds (else a line's time is only to the minute)."""
    return any(kind == "dir" and text == "S" for kind, text in _parts(fmt))


def _check_tables() -> None:
    """Each layout's own format passes the check and writes what its pattern reads."""
    when = datetime.datetime(2026, 12, 6, 14, 3, 7)
    for fmt in LAYOUT_TIMES.values():
        assert check_time_format(fmt) is None, fmt
        assert re.fullmatch(stamp_pattern(fmt), when.strftime(fmt)), fmt


_check_tables()
