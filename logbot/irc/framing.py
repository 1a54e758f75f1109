"""Bytes <-> lines: the only place where IRC text meets bytes.

Receiving (:class:`LineDecoder`)
    Lines end with LF; a CR just before the LF is part of the ending.  Servers
    send CRLF, but a few bouncers and test servers send bare LF, and accepting
    both costs nothing.

    Limits (modern.ircdocs.horse, IRCv3 message-tags): the part after the tags
    may hold 512 bytes, the tag part (``@`` .. the space) 8,191.  We allow the
    512 bytes *before* the line ending (the spec counts CRLF inside them): two
    spare bytes tolerate servers that count differently and cost nothing.
    A longer line is dropped, counted in ``dropped_lines`` and logged, at a
    bounded rate (:mod:`logbot.irc.diagnostics`: a server sending thousands of
    them must not write thousands of warnings).  Memory is bounded: once the
    unterminated tail is longer than any valid line, it is thrown away and
    everything up to the next LF is discarded too.

    Stray CR (not before the LF) and NUL are *removed*, after the length check
    (they count toward it: they were sent).  Servers disagree
    (ngircd ends the line at a CR, InspIRCd drops it; InspIRCd turns NUL into a
    space, ngircd stalls).  Removing a byte can never create a token separator,
    whereas a space in place of a NUL inside a nick would split a parameter in
    two; and a CR or NUL left in a string could end a line we later write.

    Each line is decoded on its own: UTF-8, else CP1252 (what Windows clients
    of the 1990s sent), else Latin-1, which maps every byte and so never fails.
    One user's legacy encoding therefore never spoils the lines of others.

Sending (:func:`encode_line`)
    Adds CRLF and refuses CR, LF or NUL inside the line: one call, one command.
"""

from __future__ import annotations

import logging

from logbot.irc.diagnostics import Diagnostics

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TAG_BYTES",
    "LineDecoder",
    "decode_line",
    "encode_line",
]

log = logging.getLogger(__name__)

#: Bytes allowed after the tags and before the line ending.
MAX_BODY_BYTES = 512
#: Bytes allowed for ``@tags `` (the ``@`` and the space included).
MAX_TAG_BYTES = 8191


def decode_line(raw: bytes) -> str:
    """Decode one line: UTF-8, else CP1252, else Latin-1 (never raises)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined
        return raw.decode("latin-1")


class LineDecoder:
    """Feed bytes, get complete decoded lines; keeps the unterminated tail."""

    def __init__(
        self,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_tag_bytes: int = MAX_TAG_BYTES,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_tag_bytes = max_tag_bytes
        #: Where the warnings go (the connection gives its own, which it keeps ticking).
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        #: Number of over-long lines dropped so far (for metrics).
        self.dropped_lines = 0
        self._buffer = bytearray()
        self._discarding = False  # inside an over-long line: skip to next LF

    @property
    def max_line_bytes(self) -> int:
        """The longest line (without its ending) that can be valid."""
        return self.max_body_bytes + self.max_tag_bytes

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete line (never above ``max_line_bytes``+1)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[str]:
        """Add received bytes; return the lines they completed, in order."""
        lines: list[str] = []
        first = data.find(b"\n")
        if first < 0:
            self._keep_tail(data)
            return lines
        # The line that was pending before this chunk (or the end of a discarded one).
        if self._discarding:
            self._discarding = False
            self._buffer.clear()
        else:
            self._buffer += data[:first]
            raw = bytes(self._buffer)
            self._buffer.clear()
            line = self._accept(raw)
            if line is not None:
                lines.append(line)
        last = data.rfind(b"\n")
        if last > first:
            self._complete(data[first + 1 : last], lines)
        self._keep_tail(data[last + 1 :])
        return lines

    def _keep_tail(self, tail: bytes) -> None:
        if self._discarding or not tail:
            return
        self._buffer += tail
        if len(self._buffer) > self.max_line_bytes + 1:  # +1: a CR may follow
            self._drop(len(self._buffer), "no line ending")
            self._buffer.clear()
            self._discarding = True

    def _complete(self, body: bytes, lines: list[str]) -> None:
        """Complete lines joined by LF (the last one's LF cut off), appended to
        ``lines``.

        The common case is done for the whole chunk at once: ``bytes.splitlines``
        cuts at LF, CRLF and CR alike, so when it gives exactly one piece per line
        there was no stray CR, and the pieces are the lines without their endings.
        There is one line per LF, plus the last, unless that one is empty: then
        ``splitlines`` gives no piece for it, and counting it anyway let a stray CR
        (``:hi\r:a!b@c KICK #x bot :gone\n\n``) pass for a line ending.
        With no NUL and no over-long line either, the pieces are decoded as UTF-8
        in one ``map``; blank lines are found with one ``min`` (they sort first).
        Anything else (a stray CR, a NUL, a long line, a line that is not UTF-8)
        goes through :meth:`_accept` line by line, which is the definition."""
        raws = body.splitlines()
        if (
            len(raws) == body.count(b"\n") + (not body.endswith(b"\n"))
            and b"\0" not in body
            and max(map(len, raws)) <= min(self.max_body_bytes, self.max_tag_bytes)
        ):
            try:
                found = list(map(bytes.decode, raws))
            except UnicodeDecodeError:
                pass
            else:
                if min(found)[:1] <= " ":  # an empty or blank line (or one led by a
                    found = [line for line in found if line.strip(" ")]  # control char)
                lines += found
                return
        accept = self._accept
        for raw in body.split(b"\n"):
            line = accept(raw)
            if line is not None:
                lines.append(line)

    def _accept(self, raw: bytes) -> str | None:
        """The definition of one line (``raw`` without its LF): the line, or None
        for an empty or over-long one.

        The length is measured before stray CR and NUL are removed: they are bytes
        on the wire, and the tail check (:meth:`_keep_tail`), which sees a line
        before its LF has come, counts them too; measured after, a line padded with
        NULs was kept when it came in one read and dropped when it came in two."""
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        tag_len = 0
        if raw.startswith(b"@"):
            space = raw.find(b" ")
            tag_len = len(raw) if space < 0 else space + 1
        if tag_len > self.max_tag_bytes or len(raw) - tag_len > self.max_body_bytes:
            self._drop(len(raw), "too long")
            return None
        raw = raw.replace(b"\r", b"").replace(b"\0", b"")
        if not raw.strip(b" "):
            return None  # empty lines are allowed noise between messages
        return decode_line(raw)

    def _drop(self, size: int, why: str) -> None:
        self.dropped_lines += 1
        self.diagnostics.warning(
            "over-long line", log, "dropped an incoming IRC line of %d+ bytes (%s)", size, why
        )


def encode_line(line: str) -> bytes:
    """Encode one line as UTF-8 and add CRLF.

    Raises ``ValueError`` if the line holds CR, LF or NUL: sending it would
    let the text after them run as a second command.
    """
    if "\r" in line or "\n" in line or "\0" in line:
        raise ValueError(f"refusing to send a line with CR, LF or NUL: {line!r}")
    return line.encode("utf-8") + b"\r\n"
