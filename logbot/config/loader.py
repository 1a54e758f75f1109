"""Load ``config.yaml`` into a :class:`~logbot.config.settings.Config`, or say everything wrong.

Why it is strict: the bot runs unattended for months, so a typo must fail at
``logbot check`` or at start-up, not silently become a default (an unknown key
is an error, with the closest known key suggested).  Why it collects every
problem: fixing a config one error per run is tedious.  Every message is
``<key path>: <what is wrong> (<file> line <n>)`` and never contains a secret
value, because these messages go to terminals and logs.  Warnings (a secret file
others may read, a password that would cross the network without TLS) are written
the same way and logged at WARNING on ``logbot.config``: the config still loads,
because refusing a setup that works would be worse than saying it is unsafe.

The work is split: ``reader`` (problems, lines, ``${ENV}``, ``*_file``
secrets), ``values`` (typed values, sections, unknown keys),
``logging_section`` (the three levels of ``logging``), ``networks_section``
(``networks``), ``plugins_section`` (``plugins``), ``health_section``
(``health``) and ``archive_section`` (``index`` and ``web``).  This module is the
public face: :func:`load_config`, :func:`parse_config`, :func:`summary` and
:class:`ConfigError`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from logbot.config.archive_section import read_archive, read_index, read_web
from logbot.config.health_section import read_health
from logbot.config.logging_section import read_logging
from logbot.config.networks_section import read_networks
from logbot.config.plugins_section import read_plugins
from logbot.config.reader import Reader, line_map
from logbot.config.settings import (
    ChannelConfig,
    Config,
    ExecPluginConfig,
    LogOptions,
    NetworkConfig,
    PluginOptions,
    WebOptions,
)
from logbot.config.values import Section, to_choice

__all__ = ["ConfigError", "load_config", "parse_config", "summary"]

log = logging.getLogger("logbot.config")

TOP_KEYS = ("reactor", "logging", "networks", "plugins", "health", "index", "archive", "web")
REACTORS = ("auto", "epoll", "poll", "select")


class ConfigError(Exception):
    """A config that cannot be used.

    ``str(e)`` is the full message, one problem per line, e.g.
    ``networks[0].servers[1].port: expected an integer (config.yaml line 12)``;
    :attr:`problems` holds those lines.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file at ``path``.

    Relative ``*_file`` and certificate paths are taken from the file's folder.
    ``environ`` (default: ``os.environ``) supplies ``${NAME}`` references.
    """
    name = os.fsdecode(os.fspath(path))
    try:
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError([f"cannot read {name}: {e.strerror or type(e).__name__}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"cannot read {name}: not UTF-8 text"]) from None
    except ValueError:  # NUL in the name
        raise ConfigError([f"cannot read {name!r}: bad file name"]) from None
    base_dir = os.path.dirname(os.path.abspath(name))
    return parse_config(text, source=name, environ=environ, base_dir=base_dir)


def parse_config(
    text: str,
    source: str = "config.yaml",
    environ: Mapping[str, str] | None = None,
    base_dir: str | None = None,
) -> Config:
    """Validate config ``text``; ``source`` names it in messages and in ``Config.source``.

    ``base_dir`` is where relative ``*_file`` paths are found (None: the working folder).
    """
    data, node = _parse_yaml(text, source)
    lines, duplicates = line_map(node)
    reader = Reader(source, lines, os.environ if environ is None else environ, base_dir)
    for path, line, first in duplicates:
        reader.problem(path, f"duplicate key (first on line {first}, line {line} wins)")
    if not isinstance(data, dict):
        reader.problem("", "expected a mapping at the top level (keys like 'networks')")
        raise ConfigError(reader.problems)
    config = _read_top(reader, data, source)
    for warning in reader.warnings:
        log.warning("%s", warning)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def _parse_yaml(text: str, source: str) -> tuple[Any, yaml.Node]:
    """``yaml.safe_load`` for the data and ``yaml.compose`` for the lines.

    Only the problem and its line are quoted from a YAML error: ``str()`` of one
    shows the offending line, which may hold a password.
    """
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{source} line {mark.line + 1}" if mark else source
        what = ", ".join(part for part in (e.context, e.problem) if part)
        from logbot.config.flow_comments import flow_comment_problem

        cut = flow_comment_problem(text, e, source)  # [#chan]: say why, on the line of '#'
        raise ConfigError([cut or f"bad YAML: {what} ({where})"]) from None
    except yaml.reader.ReaderError as e:  # a control character, a bad byte
        line = text.count("\n", 0, max(e.position, 0)) + 1
        code = e.character if isinstance(e.character, int) else ord(e.character)
        message = f"bad YAML: character U+{code:04X} is not allowed"
        raise ConfigError([f"{message} ({source} line {line})"]) from None
    except RecursionError:
        raise ConfigError([f"bad YAML: nested too deeply ({source})"]) from None
    except Exception as e:  # "!!int x" raises ValueError, quoting the value
        name = type(e).__name__
        raise ConfigError([f"bad YAML: cannot read a value ({name}) ({source})"]) from None
    if node is None:
        empty = "the config is empty: expected a mapping with a 'networks' list"
        raise ConfigError([f"{empty} ({source})"])
    return data, node


def _read_top(reader: Reader, data: dict[Any, Any], source: str) -> Config:
    top = Section(reader, "", data, TOP_KEYS)
    log = read_logging(reader, "logging", data.get("logging"), LogOptions(), "top")
    networks = top.get("networks", lambda r, p, v: read_networks(r, v, log), (), required=True)
    return Config(
        networks=networks,
        reactor=top.get("reactor", to_choice(REACTORS), "auto"),
        log=log,
        plugins=read_plugins(reader, "plugins", data.get("plugins")),
        health=read_health(reader, "health", data.get("health")),
        index=read_index(reader, "index", data.get("index")),
        archive=read_archive(reader, "archive", data.get("archive")),
        web=read_web(reader, "web", data.get("web"), [n.name for n in networks]),
        source=source,
    )


# -- summary -------------------------------------------------------------------------------


def summary(config: Config) -> str:
    """A short description for ``logbot check``; secrets appear only as "set"."""
    log = config.log
    lines = [
        f"reactor: {config.reactor}",
        f"logs under: {log.root} (at most {log.max_open_files} open files)",
        f"formats: {', '.join(log.formats)}; {_rotation(log)}; timezone {log.timezone}",
    ]
    lines.extend(_plugins_summary(config.plugins))
    if config.health.port is not None:
        lines.append(f"health: {config.health}/healthz and /metrics")
    if config.archive.store == "postgres":
        who = config.archive.instance or "the host name"
        lines.append(f"archive: postgres (dsn set; instance {who})")
    if config.web is not None:
        lines.append(f"web: {config.web}/ ({_web_notes(config.web)})")
    for network in config.networks:
        lines.extend(_network_summary(network))
    return "\n".join(lines)


def _web_notes(web: WebOptions) -> str:
    """What is published and how it is guarded; secrets only as "set"."""
    published = [
        f"{net}: {'every channel' if chans is None else ', '.join(chans)}"
        for net, chans in web.publish.items()
    ]
    notes = ["publishes " + ("; ".join(published) if published else "nothing")]
    if web.user is not None:
        notes.append("basic auth: set")
    if web.token is not None:
        notes.append("token: set")
    return "; ".join(notes)


def _plugins_summary(plugins: PluginOptions) -> list[str]:
    """Names and counts only: settings values and exec arguments may hold secrets."""
    notes = [f"prefix {plugins.prefix!r}", f"admins: {len(plugins.admins)}"]
    if plugins.ignore:
        notes.append(f"ignored: {len(plugins.ignore)}")
    names = ", ".join(plugins.enabled) or "(none)"
    lines = [f"plugins: {names} ({'; '.join(notes)})"]
    lines.extend(_exec_summary(plugins, e) for e in plugins.exec)
    return lines


def _exec_summary(plugins: PluginOptions, plugin: ExecPluginConfig) -> str:
    args = len(plugin.command) - 1
    notes = [f"{args} argument{'s' if args != 1 else ''}"] if args else []
    if plugin.admin:
        notes.append("admins only")
    if plugin.timeout is not None:
        notes.append(f"timeout {plugin.timeout:g} s")
    if plugin.name not in plugins.enabled:
        notes.append("not enabled")
    note = f" ({'; '.join(notes)})" if notes else ""
    return f"  exec {plugin.name}: {plugin.command[0]}{note}"


def _rotation(log: LogOptions) -> str:
    text = "rotated daily" if log.rotation == "daily" else f"rotated at {log.max_bytes} bytes"
    if log.compress:
        text += f", {log.compress}-compressed"
    if log.retention_days is not None:
        text += f", kept {log.retention_days} days"
    return text


def _log_path(log: LogOptions, network: str) -> str:
    path = os.path.join(log.root, log.path.replace("{network}", network))
    return path if log.enabled else f"{path} (not logged)"


def _network_summary(net: NetworkConfig) -> list[str]:
    alt = f" (then {', '.join(net.alt_nicks)})" if net.alt_nicks else ""
    lines = [
        f"network {net.name}",
        f"  servers: {', '.join(str(s) for s in net.servers)}",
        f"  nick: {net.nick}{alt}",
    ]
    if net.password is not None:
        lines.append("  server password: set")
    if net.sasl is not None:
        lines.append(f"  sasl: {_sasl(net)}")
    lines.append(f"  channels: {', '.join(_channel(net, c) for c in net.channels) or '(none)'}")
    lines.append(f"  log path: {_log_path(net.log, net.name)}")
    if net.log.private:
        lines.append("  private messages: logged")
    return lines


def _sasl(net: NetworkConfig) -> str:
    assert net.sasl is not None
    notes = [f"as {net.sasl.username or net.nick}"]
    if net.sasl.password is not None:
        notes.append("password: set")
    if net.sasl.public_key is not None:
        notes += ["key: set", f"public key: {net.sasl.public_key}"]  # what services keep
    if net.sasl.required:
        notes.append("required")
    return f"{', '.join(net.sasl.mechanisms)} ({'; '.join(notes)})"


def _channel(net: NetworkConfig, channel: ChannelConfig) -> str:
    notes: list[str] = []
    if channel.key is not None:
        notes.append("key: set")
    if not channel.log.enabled:
        notes.append("not logged")
    else:
        if channel.log.formats != net.log.formats:
            notes.append(f"formats: {', '.join(channel.log.formats)}")
        if channel.log.path != net.log.path:
            notes.append(f"log path: {_log_path(channel.log, net.name)}")
    return f"{channel.name} ({'; '.join(notes)})" if notes else channel.name
