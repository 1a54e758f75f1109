"""IRC text to HTML: mIRC formatting as classed spans, http(s) links, everything escaped.

Why by hand and with classes only: the text is whatever anyone on IRC typed, so every
character of it is escaped, and the only markup that comes out is what this module
writes itself: ``<span class="...">`` (the page's Content-Security-Policy forbids
inline styles, so a colour is a class, ``f4`` for the foreground, ``k4`` for the
background; a hex colour, ``\\x04RRGGBB``, takes the nearest of the 99 mIRC colours)
and ``<a href>`` for a URL whose scheme is http or https (never ``javascript:`` or
``data:``: the regular expression cannot match them).  A span is closed at the end of
every run of text, so an unterminated code (a line ending in bold) cannot leak
formatting into the next line, and the spans never nest.  Other control characters
(CTCP's ``\\x01``, NUL, ...) are dropped; a tab becomes a space.

Nick colours: a stable hash (CRC-32, not ``hash()``, which changes per process) of the
folded nick picks one of :data:`NICK_COLOURS` classes ``n0``..``n15``, so a nick has
the same colour on every page and after every restart.
"""

from __future__ import annotations

import re
import zlib
from html import escape

from logbot.irc.casemap import casefold

__all__ = [
    "MAX_LINK_CHARS",
    "NICK_COLOURS",
    "PALETTE",
    "esc",
    "linkify",
    "nick_class",
    "plain",
    "render",
]

#: The number of nick colour classes (``n0``..``n15``); the stylesheet defines each.
NICK_COLOURS = 16
#: A URL longer than this (characters) is shown as text, not linked: no real link is,
#: and a link's text is repeated in its href, doubling what a hostile line costs.
MAX_LINK_CHARS = 2048

BOLD, COLOUR, HEX, RESET, MONO = "\x02", "\x03", "\x04", "\x0f", "\x11"
REVERSE, ITALIC, STRIKE, UNDERLINE = "\x16", "\x1d", "\x1e", "\x1f"

#: The mIRC colours 0..98 (0-15: the classic 16; 16-98: the extended table), as RGB
#: hex.  99 is "the default colour": no class at all.
PALETTE = (
    "ffffff", "000000", "00007f", "009300", "ff0000", "7f0000", "9c009c", "fc7f00",
    "ffff00", "00fc00", "009393", "00ffff", "0000fc", "ff00ff", "7f7f7f", "d2d2d2",
    "470000", "472100", "474700", "324700", "004700", "00472c", "004747", "002747",
    "000047", "2e0047", "470047", "47002a", "740000", "743a00", "747400", "517400",
    "007400", "007449", "007474", "004074", "000074", "4b0074", "740074", "740045",
    "b50000", "b56300", "b5b500", "7db500", "00b500", "00b571", "00b5b5", "0063b5",
    "0000b5", "7500b5", "b500b5", "b5006b", "ff0000", "ff8c00", "ffff00", "b2ff00",
    "00ff00", "00ffa0", "00ffff", "008cff", "0000ff", "a500ff", "ff00ff", "ff0098",
    "ff5959", "ffb459", "ffff71", "cfff60", "6fff6f", "65ffc9", "6dffff", "59b4ff",
    "5959ff", "c459ff", "ff66ff", "ff59bc", "ff9c9c", "ffd39c", "ffff9c", "e2ff9c",
    "9cff9c", "9cffdb", "9cffff", "9cd3ff", "9c9cff", "dc9cff", "ff9cff", "ff94d3",
    "000000", "131313", "282828", "363636", "4d4d4d", "656565", "818181", "9f9f9f",
    "bcbcbc", "e2e2e2", "ffffff",
)  # fmt: skip
assert len(PALETTE) == 99

_RGB = tuple((int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)) for c in PALETTE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLOUR_ARGS = re.compile(r"(\d\d?)(?:,(\d\d?))?")
_HEX_ARGS = re.compile(r"([0-9A-Fa-f]{6})(?:,([0-9A-Fa-f]{6}))?")
# http(s) only; no whitespace, quotes, angle brackets, backticks or control characters.
_URL = re.compile(r"\bhttps?://[^\s<>\"'`\x00-\x1f\x7f]+", re.IGNORECASE)
_TRAILING = ".,;:!?*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_LINK = '<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>'


def esc(text: str) -> str:
    """``text`` safe in HTML text and in a double- or single-quoted attribute."""
    return escape(text, quote=True)


def plain(text: str) -> str:
    """``text`` escaped, its control characters (mIRC codes too) dropped: for nicks and
    other names, which are shown as they are, unformatted."""
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return escape(text, quote=True)


def nick_class(nick: str) -> str:
    """The colour class (``n0``..``n15``) of ``nick``: the same for every spelling of it
    (RFC 1459 folding), on every page, in every process."""
    key = casefold(nick, "rfc1459").encode("utf-8", "surrogatepass")
    return f"n{zlib.crc32(key) % NICK_COLOURS}"


def _trim(url: str) -> str:
    """A URL without the punctuation that ends the sentence around it (a final ``.``, a
    ``)`` that closes the sentence's own parenthesis)."""
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def linkify(text: str) -> str:
    """``text`` escaped, with each http(s) URL in it a link (no control characters
    expected: :func:`render` splits them out first)."""
    if "://" not in text:
        return escape(text, quote=True)
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = _trim(match.group())
        if len(url) <= len("https://") or len(url) > MAX_LINK_CHARS:
            continue
        start = match.start()
        out.append(escape(text[pos:start], quote=True))
        out.append(_LINK.format(escape(url, quote=True)))
        pos = start + len(url)
    out.append(escape(text[pos:], quote=True))
    return "".join(out)


def _nearest(hex_colour: str) -> int:
    """The mIRC colour closest to ``RRGGBB`` (squared distance in RGB)."""
    r, g, b = int(hex_colour[0:2], 16), int(hex_colour[2:4], 16), int(hex_colour[4:6], 16)
    best = min(
        range(len(_RGB)),
        key=lambda i: (_RGB[i][0] - r) ** 2 + (_RGB[i][1] - g) ** 2 + (_RGB[i][2] - b) ** 2,
    )
    return best


def _colour(number: str) -> int | None:
    """A colour code's number; 99 (and anything past the table) is the default: None."""
    value = int(number)
    return value if value < len(PALETTE) else None


class _Style:
    """The formatting in force at a point of a line."""

    __slots__ = ("bold", "fg", "bg", "italic", "mono", "reverse", "strike", "underline")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.bold = self.italic = self.underline = self.strike = False
        self.mono = self.reverse = False
        self.fg: int | None = None
        self.bg: int | None = None

    def classes(self) -> str:
        names = []
        if self.bold:
            names.append("b")
        if self.italic:
            names.append("i")
        if self.underline:
            names.append("u")
        if self.strike:
            names.append("s")
        if self.mono:
            names.append("m")
        fg, bg = self.fg, self.bg
        if self.reverse:
            names.append(f"f{bg}" if bg is not None else "rf")
            names.append(f"k{fg}" if fg is not None else "rk")
        else:
            if fg is not None:
                names.append(f"f{fg}")
            if bg is not None:
                names.append(f"k{bg}")
        return " ".join(names)


def render(text: str) -> str:
    """IRC ``text`` as safe HTML: formatting as spans with classes, http(s) links."""
    if not _CONTROL.search(text):
        return linkify(text)
    out: list[str] = []
    style = _Style()
    classes = ""
    pos, end_of_text = 0, len(text)
    while pos <= end_of_text:
        match = _CONTROL.search(text, pos)
        end = match.start() if match is not None else end_of_text
        if end > pos:
            chunk = linkify(text[pos:end])
            out.append(f'<span class="{classes}">{chunk}</span>' if classes else chunk)
        if match is None:
            break
        code = text[end]
        pos = end + 1
        if code == BOLD:
            style.bold = not style.bold
        elif code == ITALIC:
            style.italic = not style.italic
        elif code == UNDERLINE:
            style.underline = not style.underline
        elif code == STRIKE:
            style.strike = not style.strike
        elif code == MONO:
            style.mono = not style.mono
        elif code == REVERSE:
            style.reverse = not style.reverse
        elif code == RESET:
            style.reset()
        elif code in (COLOUR, HEX):
            pos = _set_colours(style, code, text, pos)
        elif code == "\t":
            out.append(" ")
        classes = style.classes()
    return "".join(out)


def _set_colours(style: _Style, code: str, text: str, pos: int) -> int:
    """Apply the colour code at ``text[pos - 1]``; where the text resumes after it.  A
    code without a colour after it turns both colours off."""
    if code == COLOUR:
        args = _COLOUR_ARGS.match(text, pos)
        if args is not None:
            style.fg = _colour(args.group(1))
            if args.group(2) is not None:
                style.bg = _colour(args.group(2))
    else:
        args = _HEX_ARGS.match(text, pos)
        if args is not None:
            style.fg = _nearest(args.group(1))
            if args.group(2) is not None:
                style.bg = _nearest(args.group(2))
    if args is None:
        style.fg = style.bg = None
        return pos
    return args.end()
