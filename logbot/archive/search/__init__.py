"""Searching the archive: ``logbot search``, and ``!grep`` when there is an index.

Why two ways to one answer: the index (:mod:`logbot.archive.index`) answers at once
but may not be there (not enabled, not built yet, damaged); the log files always are.
So every search is a :class:`~logbot.archive.model.Query`, answered by the index when
its file exists and by scanning the files otherwise, with the same words, the same
hits and the same ``day``/``seq`` numbering either way (the tests compare the two).

The modules, which this package does not import (a command imports what it uses):

- :mod:`.match`: a query as a test of one jsonl record, its words as FTS5's;
- :mod:`.files`, :mod:`.lines`, :mod:`.scan`: the log files found, read, searched;
- :mod:`.backend`: the choice between the index and the files;
- :mod:`.render`, :mod:`.progress`: what the terminal (or ``jq``) is shown;
- :mod:`.when`: ``--since`` and ``--until``.
"""
