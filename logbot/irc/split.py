"""Fit outgoing text and JOIN lists into 512-byte lines.

The limit that matters is the line *the server relays*, not the one we send:
the server puts ``:nick!user@host `` in front of our ``PRIVMSG #c :text``, and
a relayed line over 512 bytes is truncated (ngircd, InspIRCd) or not delivered
at all (Ergo: ``417``), measured in shared/ircd/README.md.  So the text budget
subtracts the length of our own hostmask.  When the core does not know it yet
(before our first JOIN echo or ``396``), it assumes a conservative one: our
nick, a 10-byte user name and a 63-byte host.

Text is cut on UTF-8 character boundaries and, when there is one, at the last
space that fits (that one space is dropped: it becomes the line break).  The cuts
walk an offset through the encoded text instead of slicing off the rest after each
piece: slicing copied what was left every time, so a 10 MB reply took time in the
square of its length (10 s, the bot stalled).  ``max_pieces`` stops early, for a
caller that keeps only the first few.

CR, LF and NUL never reach the wire from here: CRLF, CR and LF end a line of
text and start a new message (that is what a multi-line string means), empty
lines are skipped (an empty PRIVMSG is an error, ``412``), NUL is removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = [
    "ASSUMED_HOST_LEN",
    "ASSUMED_USER_LEN",
    "MAX_LINE_BYTES",
    "join_lines",
    "prefix_length",
    "split_message",
    "split_text",
]

#: The classic line limit, CRLF included.
MAX_LINE_BYTES = 512
#: Assumed lengths of our own user name and host while they are unknown.
ASSUMED_USER_LEN = 10
ASSUMED_HOST_LEN = 63

_LINE_BREAK = re.compile("\r\n|\r|\n")


def prefix_length(nick: str, user: str | None = None, host: str | None = None) -> int:
    """Bytes of ``:nick!user@host `` that the server adds to our relayed lines."""
    user_len = len(user.encode()) if user else ASSUMED_USER_LEN
    host_len = len(host.encode()) if host else ASSUMED_HOST_LEN
    return len(nick.encode()) + user_len + host_len + 4  # ":" "!" "@" " "


def _cut(data: bytes, start: int, limit: int) -> tuple[int, int]:
    """Where the piece of ``data`` from ``start`` ends (it holds at most ``limit``
    bytes and more follow) and where the next one starts."""
    cut = start + limit
    while cut > start and data[cut] & 0xC0 == 0x80:  # inside a UTF-8 sequence
        cut -= 1
    if cut == start:
        raise ValueError(f"a text budget of {limit} bytes cannot hold one character")
    space = data.rfind(b" ", start, cut + 1)
    if space > start:
        return space, space + 1
    return cut, cut


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (CRLF, CR or LF end one), one at a time: a caller that
    stops early has not split the rest."""
    start = 0
    for match in _LINE_BREAK.finditer(text):
        yield text[start : match.start()]
        start = match.end()
    yield text[start:]


def split_text(text: str, max_bytes: int, max_pieces: int | None = None) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes each (the first
    ``max_pieces`` of them, if given), in time linear in the length of ``text``."""
    if max_bytes < 1:
        raise ValueError(f"no room for text ({max_bytes} bytes)")
    pieces: list[str] = []
    room = -1 if max_pieces is None else max_pieces
    for line in _lines(text.replace("\0", "")):
        data = line.encode("utf-8")
        start, size = 0, len(data)
        while size - start > max_bytes and room:
            end, start_next = _cut(data, start, max_bytes)
            pieces.append(data[start:end].decode("utf-8"))
            start = start_next
            room -= 1
        if not room:
            break
        if start < size:
            pieces.append(data[start:].decode("utf-8"))
            room -= 1
            if not room:
                break
    return [piece for piece in pieces if piece]


def split_message(
    command: str,
    target: str,
    text: str,
    *,
    prefix_len: int,
    wrap: tuple[str, str] = ("", ""),
    max_line_bytes: int = MAX_LINE_BYTES,
) -> list[str]:
    """Whole lines ``COMMAND target :text`` whose relayed form fits.

    ``wrap`` surrounds every piece (``("\\x01ACTION ", "\\x01")`` for CTCP
    ACTION), and its bytes come out of the budget.
    """
    head = f"{command} {target} :{wrap[0]}"
    overhead = prefix_len + len(head.encode()) + len(wrap[1].encode()) + 2  # CRLF
    return [f"{head}{piece}{wrap[1]}" for piece in split_text(text, max_line_bytes - overhead)]


def join_lines(
    channels: Iterable[str | tuple[str, str | None]],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_targets: int | None = None,
) -> list[str]:
    """Batch many channels into few ``JOIN #a,#b key`` lines.

    Channels with keys go first in each line, because the keys list is matched
    to the channel list by position.  ``max_targets`` is the server's
    ``TARGMAX`` for JOIN, when it announces one.
    """
    items = [(c, None) if isinstance(c, str) else c for c in channels]
    items.sort(key=lambda item: item[1] is None)  # stable: keyed first
    lines: list[str] = []
    names: list[str] = []
    keys: list[str] = []

    def render(names: list[str], keys: list[str]) -> str:
        return "JOIN " + ",".join(names) + (" " + ",".join(keys) if keys else "")

    for name, key in items:
        new_names, new_keys = names + [name], keys + ([key] if key else [])
        too_many = max_targets is not None and len(new_names) > max_targets
        too_long = len(render(new_names, new_keys).encode()) + 2 > max_line_bytes
        if names and (too_many or too_long):
            lines.append(render(names, keys))
            new_names, new_keys = [name], [key] if key else []
        names, keys = new_names, new_keys
    if names:
        lines.append(render(names, keys))
    return lines
