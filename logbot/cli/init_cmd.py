"""``logbot init [FILE]``: a starter config, so that the first hour is not spent in YAML.

On a terminal it asks for what every config needs (the server's host, TLS and port,
the nick, the channels, the log folder), with defaults; in a script it takes them as
options, and refuses to guess the two it cannot (``--server``, ``--nick``: exit 2).
It writes the commented sample config with those values in place
(:mod:`logbot.cli.starter_config`), runs the checks of ``logbot check`` on it, and
says what to run next.

The file: never over an existing one without ``--force`` (a config is easily worth
more than the command that would replace it), never through a symlink at ``FILE``
(with ``--force`` the link itself is replaced), written whole or not at all (a
temporary file beside it, then a rename), mode 0600 from the start since it is
where passwords go next.  Exit statuses: 0, 1 (``FILE`` exists, cannot be written,
or the checks found a problem: unwritable folders, plugins), 2 (bad or missing
options).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shlex
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from logbot.cli.starter_config import (
    Answers,
    StarterError,
    check_host,
    fill_sample,
    network_name,
)
from logbot.config.networks_section import _check_channel, _check_nick

__all__ = ["init_command", "write_new"]

DEFAULT_HOST = "irc.libera.chat"
DEFAULT_NICK = "logbot"
DEFAULT_ROOT = "logs"


def _port(tls: bool) -> int:
    return 6697 if tls else 6667


def parse_server(server: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    host, port = server, None
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", server)
    if bracketed:
        host, text = bracketed.group(1), bracketed.group(2)
    elif server.count(":") == 1:
        host, text = server.split(":")
    else:
        text = None
    if text is not None:
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise StarterError(f"--server: bad port {text!r}: 1..65535")
        port = int(text)
    problem = check_host(host)
    if problem:
        raise StarterError(f"--server: {problem}")
    return host, port


def _checked(check: Callable[[str], str | None]) -> Callable[[str], str]:
    """A ``value_proc`` for ``click.prompt``: a bad answer is said and asked again."""

    def proc(value: str) -> str:
        value = value.strip()
        problem = check(value)
        if problem:
            raise click.BadParameter(problem)
        return value

    return proc


def _split_channels(text: str) -> tuple[str, ...]:
    names = tuple(name for name in re.split(r"[\s,]+", text.strip()) if name)
    for name in names:
        problem = _check_channel(name)
        if problem:
            raise click.BadParameter(problem)
    if not names:
        raise click.BadParameter("give at least one channel, e.g. #mychannel")
    return names


def _ask(
    server: str | None,
    tls: bool | None,
    nick: str | None,
    channels: tuple[str, ...],
    log_root: str | None,
) -> tuple[str, int, bool, str, tuple[str, ...], str]:
    """The prompts, for what the options did not say."""
    port: int | None = None
    if server is None:
        host = click.prompt(
            "IRC server (host name)", default=DEFAULT_HOST, value_proc=_checked(check_host)
        )
    else:
        host, port = parse_server(server)
    if tls is None:
        tls = click.confirm("Connect with TLS", default=True)
    if port is None:
        port = click.prompt("Port", default=_port(tls), type=click.IntRange(1, 65535))
    if nick is None:
        nick = click.prompt("Nick", default=DEFAULT_NICK, value_proc=_checked(_check_nick))
    if not channels:
        channels = click.prompt(
            "Channels to log (separated by spaces or commas)", value_proc=_split_channels
        )
    if log_root is None:
        log_root = click.prompt("Folder for the logs", default=DEFAULT_ROOT)
    assert port is not None and nick is not None and log_root is not None
    return host, port, tls, nick, channels, log_root


def write_new(path: str, text: str, force: bool) -> None:
    """Write ``text`` to ``path``, mode 0600, all or nothing, never through a symlink.

    Raises FileExistsError if ``path`` exists (anything there, a dangling symlink
    too) and ``force`` is false, OSError if it cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)  # whatever the umask
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(temp, path)  # replaces a symlink at path, never its target
        else:
            _link_new(temp, path)
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


def _link_new(temp: str, path: str) -> None:
    """Give ``temp`` the name ``path`` unless something has it: a hard link fails on
    any existing name, atomically (a check then a rename would leave a window)."""
    try:
        os.link(temp, path)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(path):  # no hard links here (vfat, some FUSE): best effort
            raise FileExistsError(errno.EEXIST, "File exists", path) from None
        os.rename(temp, path)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"logbot init: {message}", err=True)
    sys.exit(status)


@click.command("init")
@click.argument("file", default="config.yaml", metavar="[FILE]", type=click.Path(dir_okay=False))
@click.option(
    "--server",
    metavar="HOST[:PORT]",
    help="The IRC server (default port: 6697 with --tls, else 6667).",
)
@click.option(
    "--tls/--no-tls", default=None, help="Connect with TLS (default: no; asked on a terminal)."
)
@click.option("--nick", metavar="NICK", help="The bot's nick.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="CHANNEL",
    help="A channel to log (repeat for more); quote it in the shell: '#chan'.",
)
@click.option(
    "--log-root", metavar="DIR", help=f"The folder for the logs.  [default: {DEFAULT_ROOT}]"
)
@click.option("--network", metavar="NAME", help="The network's name (default: from the host).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def init_command(
    file: str,
    server: str | None,
    tls: bool | None,
    nick: str | None,
    channels: tuple[str, ...],
    log_root: str | None,
    network: str | None,
    force: bool,
) -> None:
    """Write a starter config (asking for the server, nick and channels on a terminal).

    It is the commented sample config with your values in place; the checks of
    `logbot check` run on it.  Without a terminal, give at least --server and --nick.
    FILE (default: config.yaml) is never replaced without --force."""
    from logbot.cli.checks import check_config

    if os.path.lexists(file) and not force:
        _fail(f"{file} exists; give --force to replace it", 1)
    try:
        if sys.stdin.isatty() and (server is None or nick is None):
            host, port, tls, nick, channels, log_root = _ask(server, tls, nick, channels, log_root)
            click.echo()
        else:
            missing = [name for name, v in (("--server", server), ("--nick", nick)) if v is None]
            if missing:
                _fail(f"missing {' and '.join(missing)} (not asking: no terminal)", 2)
            assert server is not None and nick is not None
            host, given_port = parse_server(server)
            tls = bool(tls)
            port = _port(tls) if given_port is None else given_port
        answers = Answers(
            host=host,
            port=port,
            tls=tls,
            nick=nick,
            channels=channels,
            log_root=DEFAULT_ROOT if log_root is None else log_root,
            network=network_name(host) if network is None else network,
            file=file,
        )
        text = fill_sample(answers)
    except StarterError as e:
        _fail(str(e), 2)
    try:
        write_new(file, text, force)
    except FileExistsError:
        _fail(f"{file} exists; give --force to replace it", 1)
    except OSError as e:
        _fail(f"cannot write {file}: {e.strerror or e}", 1)
    click.echo(f"Wrote {file} (readable by you only: passwords go there next).")
    if not check_config(file):
        sys.exit(1)
    shown = shlex.quote(file)
    click.echo("\nNext:")
    click.echo(f"  logbot check --connect {shown}   # try the server and the nick")
    click.echo(f"  logbot run {shown}               # log until stopped (Ctrl-C)")
