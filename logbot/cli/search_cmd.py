"""``logbot search``: the archive searched from a terminal or a script.

Why it behaves like grep: it is used the way grep is.  One line per hit (``network
#channel YYYY-MM-DD HH:MM:SS <nick> text``), context lines with ``-C``, groups
separated by ``--``, colours only on a terminal (``NO_COLOR`` honoured), and the exit
status says whether anything was found: 0 with hits, 1 without, 2 for a bad regular
expression, a bad time or a bad config.  ``--json`` prints one object per hit per line
for ``jq``.  It answers from the index when its file exists (``--no-index`` to scan all
the same), else it scans the files with a progress bar on stderr (only when stderr is
a terminal); what could not be read is said in one line at the end.

Only argument handling lives here; the work is :mod:`logbot.archive.search`, imported
when the command runs.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from logbot.cli.options import config_option, index_option

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "query_words", "run_search", "search_command"]

#: Hits shown when ``--limit`` is not given.
DEFAULT_LIMIT = 50
#: The most hits one search may show (each is held in memory until printed): the
#: index's bound (``logbot.archive.index.search.MAX_LIMIT``), so both answer alike.
MAX_LIMIT = 1000

EXIT_FOUND, EXIT_NONE, EXIT_BAD = 0, 1, 2


def _fail(message: str, err: TextIO | None = None) -> int:
    (err or sys.stderr).write(f"logbot search: {message}\n")
    return EXIT_BAD


def query_words(args: tuple[str, ...]) -> str | None:
    """The words of the command line as a query's: an argument with a blank in it is
    a phrase (``logbot search "two words"``: the shell took the quotes away)."""
    terms = [f'"{arg}"' if any(c.isspace() for c in arg) and '"' not in arg else arg
             for arg in args]  # fmt: skip
    return " ".join(terms) or None


def run_search(
    config: Any,
    query: Any,
    *,
    context: int,
    as_json: bool,
    color: bool,
    use_index: bool,
    index: Path | None,
    out: TextIO,
    err: TextIO,
    err_tty: bool,
    opener: Any = None,
) -> int:
    """Runs one search and prints it; the exit status.  ``opener`` opens the index
    (tests give a fake one); ``err_tty`` says whether to draw the progress bar."""
    import time

    from logbot.archive.search.backend import NoIndex, find
    from logbot.archive.search.match import Matcher
    from logbot.archive.search.progress import ProgressBar
    from logbot.archive.search.render import GROUP_SEPARATOR, hit_json, hit_lines, visible

    try:
        matcher = Matcher(query)
    except ValueError as e:
        return _fail(visible(str(e)), err)
    bar = ProgressBar(err, tty=err_tty, clock=time.monotonic)
    try:
        found = find(config, query, context=context, use_index=use_index, index=index,
                     opener=opener, progress=bar)  # fmt: skip
    except (NoIndex, ValueError) as e:
        return _fail(visible(str(e)), err)
    finally:
        bar.close()
    for note in found.notes:
        err.write(f"logbot search: {visible(note)}\n")
    lines: list[str] = []
    for number, hit in enumerate(found.hits):
        if as_json:
            lines.append(hit_json(hit, context=context > 0))
            continue
        if context and number:
            lines.append(GROUP_SEPARATOR)
        lines.extend(hit_lines(hit, color=color, matcher=matcher))
    if lines:
        out.write("\n".join(lines) + "\n")
    out.flush()
    if found.unread:
        err.write(f"logbot search: {visible(found.unread)}\n")
    return EXIT_FOUND if found.hits else EXIT_NONE


@click.command("search")
@config_option
@click.argument("words", nargs=-1)
@click.option("--regex", metavar="RE", help="A Python regular expression the text must hold.")
@click.option("--case", is_flag=True, help="The regular expression minds case.")
@click.option("--nick", metavar="NICK", help="Lines said (or done) by this nick.")
@click.option("--channel", metavar="CHANNEL", help="Lines of this channel (any case).")
@click.option("--network", metavar="NETWORK", help="Lines of this network.")
@click.option(
    "--since", metavar="WHEN", help="From this time: YYYY-MM-DD[THH:MM[:SS]] (UTC) or 7d, 12h, 30m."
)
@click.option("--until", metavar="WHEN", help="Before this time (a day: up to its end).")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="message, action... (repeat)")
@click.option(
    "-C", "--context", type=click.IntRange(0), default=0, metavar="N", help="N lines around each."
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    metavar="N",
    default=DEFAULT_LIMIT,
    show_default=True,
    help="The most hits shown, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit per line.")
@click.option("--color/--no-color", default=None, help="Colours (default: on a terminal).")
@click.option("--no-index", is_flag=True, help="Scan the files even when there is an index.")
@index_option
def search_command(
    config_path: str,
    words: tuple[str, ...],
    regex: str | None,
    case: bool,
    nick: str | None,
    channel: str | None,
    network: str | None,
    since: str | None,
    until: str | None,
    types: tuple[str, ...],
    context: int,
    limit: int,
    as_json: bool,
    color: bool | None,
    no_index: bool,
    index_file: str | None,
) -> None:
    """Search the logs for WORDS (whole words, any case and accent; word* is a prefix;
    a quoted argument with blanks, "like this", is a phrase) and the other conditions
    given; newest first.

    Exits 0 when something was found, 1 when nothing was, 2 for a bad regular
    expression, time or config."""
    import time

    from logbot.archive.model import Query
    from logbot.archive.search.scan import MAX_CONTEXT
    from logbot.archive.search.when import parse_when
    from logbot.config.loader import ConfigError, load_config
    from logbot.logs.record import TYPES

    try:
        config = load_config(config_path)
    except ConfigError as e:
        click.echo(f"logbot: invalid config:\n{e}", err=True)
        sys.exit(EXIT_BAD)
    unknown = sorted(set(types) - TYPES)
    if unknown:
        sys.exit(_fail(f"unknown --type {', '.join(unknown)}: one of {', '.join(sorted(TYPES))}"))
    if context > MAX_CONTEXT:
        sys.exit(_fail(f"--context {context}: at most {MAX_CONTEXT}"))
    now = time.time()
    bounds: list[int | None] = []
    for name, value in (("--since", since), ("--until", until)):
        try:
            bounds.append(
                None if value is None else parse_when(value, now, end_of_day=name == "--until")
            )
        except ValueError as e:
            sys.exit(_fail(f"{name}: {e}"))
    query = Query(
        words=query_words(words),
        regex=regex,
        case=case,
        nick=nick,
        channel=channel,
        network=network,
        types=tuple(dict.fromkeys(types)),
        since_ms=bounds[0],
        until_ms=bounds[1],
        limit=limit,
    )
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if isinstance(sys.stdout, io.TextIOWrapper):  # what will not encode: backslash escapes
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        status = run_search(
            config,
            query,
            context=context,
            as_json=as_json,
            color=color,
            use_index=not no_index,
            index=Path(index_file) if index_file else None,
            out=sys.stdout,
            err=sys.stderr,
            err_tty=sys.stderr.isatty(),
        )
    except BrokenPipeError:  # `| head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_FOUND
    sys.exit(status)
