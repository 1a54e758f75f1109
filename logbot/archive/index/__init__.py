"""The SQLite (FTS5) index of the jsonl logs: every record, searchable by words, nick,
channel, network, type and time.

The log files are the source of truth; the index only ever reads them, can always be
rebuilt from them (``logbot index --rebuild``), and is rebuilt rather than trusted when
lost or damaged.  It is kept up to date by a :class:`Follower` in a process of its own
(``logbot index --follow``), which catches up after a restart and reads rotated
``.jsonl.gz`` files too.  The parts:

- :mod:`.schema`: the tables, the version, a damaged file moved aside;
- :mod:`.scan`: finding files without walking the whole tree each time;
- :mod:`.sources`: complete lines of a plain or compressed file from an offset;
- :mod:`.ingest`: which files, from where, in what order, in write transactions;
- :mod:`.identity`: which row a file found is (moved, compressed, replaced, new);
- :mod:`.records`: a batch of lines parsed, numbered and inserted;
- :mod:`.reads`, :mod:`.search`, :mod:`.words`: what is read back, and how;
- :mod:`.database`: the :class:`Index` tying them together;
- :mod:`.follow`: the :class:`Follower`; :mod:`.location`: where the file lives.
"""

from __future__ import annotations

from logbot.archive.index.database import Index
from logbot.archive.index.follow import Follower
from logbot.archive.index.location import index_path, open_index
from logbot.archive.index.reads import ChannelInfo
from logbot.archive.index.schema import IndexCorrupt
from logbot.archive.index.search import SearchError

__all__ = [
    "ChannelInfo",
    "Follower",
    "Index",
    "IndexCorrupt",
    "SearchError",
    "index_path",
    "open_index",
]
