"""The archive: what is done with the logs once written (search them, read them on the web).

The jsonl files the writer leaves are the source of truth; everything here reads them
and never writes under the log root (but :mod:`logbot.archive.imports`, which writes
other programs' old logs as logbot files).  The parts, lowest first:

- :mod:`logbot.archive.model`: the shared vocabulary (a :class:`~model.Query`, a
  :class:`~model.Line` of a day, a search :class:`~model.Hit`, a channel's key);
- :mod:`logbot.archive.index`: the SQLite (FTS5) index, which follows the files from a
  process of its own, catches up after a restart, and is rebuilt rather than trusted
  when lost or damaged;
- :mod:`logbot.archive.search`: ``logbot search``, from the index, or by scanning the
  files when there is none;
- :mod:`logbot.archive.web`: the web view and the static export;
- :mod:`logbot.archive.imports`: other programs' logs brought in.
"""
