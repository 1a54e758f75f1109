"""``logbot index``: bring the archive's search index up to date, rebuild it, follow.

Why a command: the index is a cache of the jsonl files that any process may need to
fill (a first run, after a restore, after a crash of the follower), and ``--follow`` is
the process that keeps it current beside a running bot: lowered priority (``nice
10``), its own process, so it never competes with the logging.

Exit statuses: 0 done (``--follow``: stopped by SIGTERM/SIGINT), 2 a bad config,
1 the index cannot be made or written (one line on stderr).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from logbot.cli.options import config_option, index_option, load_or_exit
from logbot.cli.parent_watch import die_with_parent

if TYPE_CHECKING:
    from logbot.archive.index import Index

__all__ = ["FOLLOW_NICENESS", "index_command"]

#: How much ``--follow`` lowers its priority (``os.nice``): the bot comes first.
FOLLOW_NICENESS = 10

log = logging.getLogger("logbot.archive.index")


@click.command("index")
@config_option
@click.option("--rebuild", is_flag=True, help="Empty the index and read every log file again.")
@click.option(
    "--follow",
    is_flag=True,
    help="Then keep following the log files (until SIGTERM or SIGINT).",
)
@index_option
def index_command(config_path: str, rebuild: bool, follow: bool, index_file: str | None) -> None:
    """Update the search index of the jsonl logs under logging.root.

    Prints how many lines were indexed and how fast.  Exits 2 if the config is
    invalid, 1 if the index cannot be written."""
    from logbot.archive.index import Index, index_path

    config = load_or_exit(config_path)
    path = Path(index_file) if index_file else index_path(config)
    root = Path(config.log.root)
    if follow:
        os.nice(FOLLOW_NICENESS)
        die_with_parent()
    if not root.is_dir():
        click.echo(f"logbot: the log root {root} is not a folder (yet): no lines", err=True)
    try:
        index = Index(path)
    except (OSError, sqlite3.Error) as e:
        _fail(path, e)
    try:
        started = time.monotonic()
        if rebuild:
            lines = index.rebuild(root)
        elif follow:
            lines = 0  # the follower catches up, in batches
        else:
            lines = index.update(root)
        if not follow or rebuild:
            took = time.monotonic() - started
            rate = lines / took if took > 0 else 0.0
            click.echo(
                f"indexed {lines} lines in {took:.1f} s ({rate:.0f} lines/s), index at {path}",
                err=True,
            )
        if follow:
            _follow(index, root, config.index.interval, config.index.batch_lines)
    except (OSError, sqlite3.Error) as e:
        _fail(path, e)
    finally:
        index.close()


def _fail(path: Path, error: BaseException) -> NoReturn:
    why = getattr(error, "strerror", None) or str(error)
    click.echo(f"logbot: cannot write the index at {path}: {why}", err=True)
    sys.exit(1)


def _follow(index: Index, root: Path, interval: float, batch_lines: int) -> None:
    from logbot.archive.index import Follower
    from logbot.reactor.loop import Reactor

    reactor = Reactor()
    follower = Follower(reactor, index, root, interval, batch_lines)
    reactor.callWhenRunning(follower.start)
    log.info("index: following %s into %s", root, index.path)
    reactor.run()
    follower.stop()
    log.info(
        "index: stopped (%d lines indexed, %d bad lines skipped)",
        follower.lines_indexed,
        follower.bad_lines,
    )
