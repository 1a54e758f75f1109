"""``logbot web``: serve the archive's web view on its own.

Why a command of its own: the web view needs only to read the logs (and its index), so
it can run in a second container on the same volume, read-only, apart from the bot.
It loads the config (which must have a ``web`` section: nothing is published without
one), opens the index, keeps it following the log files (unless ``index.enabled`` is
false: then something else keeps it), or with ``archive.store: postgres`` (and no
``--index``) reads the shared database the bots feed, listens, says where on one line of stderr, and
serves until SIGTERM or SIGINT (exit 0).  A port that cannot be had is exit 2 with one
line, like a bad config.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from logbot.cli.options import check_host_option, config_option, index_option, load_or_exit
from logbot.cli.parent_watch import die_with_parent

__all__ = ["web_command"]


@click.command("web")
@config_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="The port to listen on (wins over web.port; 0: any free port, printed).",
)
@click.option(
    "--host",
    metavar="ADDRESS",
    callback=check_host_option,
    help="The address to listen on (wins over web.host; default 127.0.0.1).",
)
@index_option
@click.option(
    "--no-follow",
    is_flag=True,
    help="Do not follow the log files into the index: another process does "
    "(`logbot run` starts `logbot index --follow` beside this).",
)
def web_command(
    config_path: str, port: int | None, host: str | None, index_file: str | None, no_follow: bool
) -> None:
    """Serve the archive's web view (the config's `web` section) until stopped.

    Exits 2 if the config is invalid, has no `web` section, or the port cannot be
    listened on; 1 if the index (or the archive database) cannot be opened."""
    die_with_parent()
    config = load_or_exit(config_path)
    web = config.web
    if web is None:
        click.echo(
            f"logbot web: {config_path} has no 'web' section: add one (see config.yaml) "
            "to say what to publish",
            err=True,
        )
        sys.exit(2)
    from logbot.archive.index import Follower, index_path, open_index
    from logbot.archive.web.server import serve
    from logbot.reactor.loop import Reactor

    path = Path(index_file) if index_file else index_path(config)
    root = Path(config.log.root)
    index: Any
    if config.archive.store == "postgres" and index_file is None:
        # the shared database, fed by the bots' own feeds: nothing to follow here
        from logbot.archive.stores import StoreError, open_archive

        try:
            index = open_archive(config)
        except StoreError as e:
            click.echo(f"logbot web: {e}", err=True)
            sys.exit(1)
        no_follow = True
    else:
        try:
            index = open_index(path, root)
        except Exception as e:  # sqlite3.Error, OSError: one line, no traceback
            click.echo(f"logbot web: cannot open the index {path}: {e}", err=True)
            sys.exit(1)
    reactor = Reactor(None if config.reactor == "auto" else config.reactor)
    followers: list[Follower] = []  # the one started, once the reactor runs
    if config.index.enabled is not False and not no_follow:
        options = config.index

        def follow() -> None:
            follower = Follower(reactor, index, root, options.interval, options.batch_lines)
            follower.start()
            followers.append(follower)

        reactor.callWhenRunning(follow)
    try:
        status = serve(
            reactor,
            web,
            index,
            host if host is not None else web.host,
            port if port is not None else web.port,
            lambda line: click.echo(line, err=True),
        )
    finally:
        for follower in followers:
            follower.stop()
        index.close()
    sys.exit(status)
