"""Reading a log file's complete lines from an offset, plain or gzip-compressed.

Why a module of its own: the rules of what a "line" is are the index's promise that no
line is read twice or half.  An offset is always a byte count of *uncompressed*
content at a line boundary, so a ``.jsonl`` compressed to ``.jsonl.gz`` by the
rotation is continued at the same offset in the decompressed stream.  Only complete
lines are taken: a last line without its ``\\n`` is being written and waits for the next
look.  A line longer than :data:`MAX_LINE_BYTES` is skipped whole (the writer never
writes one; a corrupt or hostile file might) without ever being held in memory.

Files are opened through :mod:`logbot.logs.safe_open` (no symbolic link followed
below the log root, regular files only) and only ever read.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

from logbot.archive.index.schema import HEAD_BYTES
from logbot.logs import safe_open

__all__ = [
    "FIRST_LINE_BYTES",
    "FIRST_LOOK_BYTES",
    "Inflate",
    "MAX_LINE_BYTES",
    "READ_CHUNK",
    "Reader",
    "first_ms",
    "open_reader",
    "read_head",
]

#: Bytes read at a time (256 KiB): a batch's lines are parsed from a few such reads.
READ_CHUNK = 256 * 1024

#: A line longer than this (1 MiB) is skipped as bad: a jsonl line of an IRC event is a
#: few hundred bytes, a few KiB with every tag; memory stays bounded whatever a file holds.
MAX_LINE_BYTES = 1024 * 1024

#: Bytes looked at for a new file's first line (its time orders a channel's files):
#: the first 4 KiB, and up to 64 KiB if the line is longer.
FIRST_LOOK_BYTES = 4096
FIRST_LINE_BYTES = 64 * 1024


def is_gz(rel: str) -> bool:
    return rel.endswith(".gz")


class Inflate:
    """The decompressed content of a gzip file (one member or several), read forward.

    Not :class:`gzip.GzipFile`: a read that meets a damaged or cut stream loses there
    everything it had decompressed, where this returns it (and then b"", with
    ``error`` set).  Each read inflates at most what was asked for, so a small file of
    zeros that inflates to gigabytes never sits in memory."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._in = 0  # compressed bytes read
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._tail = b""  # compressed, not inflated yet
        self.error: Exception | None = None
        self._ended = False

    def read(self, size: int) -> bytes:
        out = b""
        while len(out) < size and not self._ended:
            if not self._tail:
                if self._z.eof:  # one member done: another may follow
                    rest = self._z.unused_data or self._pread()
                    if not rest:
                        self._ended = True
                        break
                    self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    self._tail = rest
                    continue
                self._tail = self._pread()
                if not self._tail:
                    self._ended = True
                    if self._in:
                        self.error = EOFError("the compressed stream is cut short")
                    break
            try:
                out += self._z.decompress(self._tail, size - len(out))
            except zlib.error as e:
                self.error, self._ended = e, True
                break
            self._tail = self._z.unconsumed_tail
        return out

    def _pread(self) -> bytes:
        data = os.pread(self._fd, READ_CHUNK, self._in)
        self._in += len(data)
        return data


class Reader:
    """Complete lines of one file from ``pos`` on; :meth:`take` moves ``pos``.

    For a plain file every read is a ``pread`` at the position (nothing is kept between
    looks); a ``.gz`` stream can only go forward, so its reader is kept open by the
    index between batches (the bytes read past the last complete line wait in
    ``_buf``).
    """

    def __init__(self, fd: int, gz: bool) -> None:
        self.fd = fd  # owned: closed by close()
        self.pos = 0  # uncompressed bytes consumed (a line boundary)
        self._read_pos = 0  # uncompressed bytes read from the source
        self._buf = b""  # read, not consumed: starts at pos
        self._gz = Inflate(fd) if gz else None

    @property
    def error(self) -> Exception | None:
        """What was wrong with a damaged ``.gz`` (read as far as it goes), else None."""
        return None if self._gz is None else self._gz.error

    def _read(self, size: int) -> bytes:
        """The next bytes; b"" at the end, or at a damaged ``.gz``'s first bad byte
        (``error`` then says what was wrong)."""
        if self._gz is not None:
            data = self._gz.read(size)
        else:
            data = os.pread(self.fd, size, self._read_pos)
        self._read_pos += len(data)
        return data

    def skip_to(self, pos: int) -> bool:
        """Move forward to ``pos``; False if the content ends before it."""
        if pos < self.pos:
            raise ValueError(f"cannot go back from {self.pos} to {pos}")
        if self._gz is None:
            self.pos = self._read_pos = pos
            self._buf = b""
            return True
        while self.pos + len(self._buf) < pos:
            self.pos += len(self._buf)
            self._buf = self._read(min(READ_CHUNK, pos - self.pos))
            if not self._buf:
                return False
        self._buf = self._buf[pos - self.pos :]
        self.pos = pos
        return True

    def take(self, max_lines: int) -> tuple[list[bytes], int]:
        """Up to ``max_lines`` complete lines (without their ``\\n``) and the number of
        too-long lines skipped on the way (each counts against ``max_lines``).

        A ``.gz`` never grows: its last line counts as complete even without ``\\n``."""
        lines: list[bytes] = []
        skipped = 0
        while len(lines) + skipped < max_lines:
            if b"\n" not in self._buf:
                if len(self._buf) > MAX_LINE_BYTES:
                    if not self._skip_long_line():
                        break
                    skipped += 1
                    continue
                data = self._read(READ_CHUNK)
                if data:
                    self._buf += data
                    continue
                if self._gz is not None and self._buf and self.error is None:
                    # the last line of a finished file
                    lines.append(self._buf)
                    self.pos += len(self._buf)
                    self._buf = b""
                break
            # every complete line in the buffer at once, as many as allowed
            want = max_lines - len(lines) - skipped
            cut = self._buf.rfind(b"\n") + 1
            chunk = self._buf[:cut].split(b"\n")
            chunk.pop()  # the empty piece after the last "\n"
            if len(chunk) > want:
                chunk = chunk[:want]
                cut = sum(len(line) + 1 for line in chunk)
            for line in chunk:
                if len(line) > MAX_LINE_BYTES:
                    skipped += 1
                else:
                    lines.append(line)
            self.pos += cut
            self._buf = self._buf[cut:]
        return lines, skipped

    def _skip_long_line(self) -> bool:
        """Consume the too-long line at ``pos`` up to its ``\\n``, reading on without
        keeping it.  False (nothing consumed) if a plain file ends before the ``\\n``:
        the line is still being written, or torn; it is looked at again next time."""
        skipped = len(self._buf)
        while True:
            data = self._read(READ_CHUNK)
            if not data:
                if self._gz is None or self.error is not None:
                    self._buf = b""
                    self._read_pos = self.pos
                    return False
                self.pos += skipped  # a finished file's last line: skipped whole
                self._buf = b""
                return True
            end = data.find(b"\n")
            if end >= 0:
                self.pos += skipped + end + 1
                self._buf = data[end + 1 :]
                return True
            skipped += len(data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_reader(root: Path, rel: str, pos: int = 0) -> Reader:
    """A reader of the file ``rel`` below ``root`` at ``pos`` (its own descriptor).

    :raises OSError: cannot be opened (gone, a link, not a regular file...).
    :raises EOFError: a ``.gz`` whose content ends before ``pos``.
    """
    reader = Reader(safe_open.open_file(root, root / rel, os.O_RDONLY), is_gz(rel))
    try:
        if pos and not reader.skip_to(pos):
            raise EOFError(f"{rel} ends before offset {pos}")
    except BaseException:
        reader.close()
        raise
    return reader


def read_head(root: Path, rel: str, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of ``rel``'s (uncompressed) content; b"" if unreadable."""
    try:
        fd = safe_open.open_file(root, root / rel, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return Inflate(fd).read(size) if is_gz(rel) else os.pread(fd, size, 0)
    except OSError:
        return b""
    finally:
        os.close(fd)


def first_ms(root: Path, rel: str) -> int | None:
    """The ``time_ms`` of ``rel``'s first line, if it is a usable record (else None)."""
    head = read_head(root, rel, FIRST_LOOK_BYTES)
    if b"\n" not in head and len(head) == FIRST_LOOK_BYTES:
        head = read_head(root, rel, FIRST_LINE_BYTES)
    end = head.find(b"\n")
    if end < 0:
        return None
    try:
        record = json.loads(head[:end])
    except (ValueError, RecursionError):
        return None
    ms = record.get("time_ms") if isinstance(record, dict) else None
    return ms if type(ms) is int else None
