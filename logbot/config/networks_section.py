"""The ``networks`` list: servers, identity, channels, reconnect policy.

Everything a network sends to a server (nicks, user name, channel names and
keys, quit message) is checked here for what would break or inject an IRC
line (spaces, commas, CR, LF, NUL), because after loading nobody checks again.
Checks that span keys (channel and network names are unique) come after each key
was read on its own.  The ``sasl`` mapping, and the warning about a server password or
a SASL PLAIN password sent without TLS, are :mod:`.sasl_section`'s.
"""

from __future__ import annotations

import os
import re
from typing import Any

from logbot.config.logging_section import read_logging
from logbot.config.pins import CertPin, parse_pin
from logbot.config.reader import INVALID, Reader, item, join
from logbot.config.sasl_section import SASL_KEYS, read_sasl, warn_plaintext
from logbot.config.settings import (
    ChannelConfig,
    LogOptions,
    NetworkConfig,
    ReconnectOptions,
    ServerConfig,
)
from logbot.config.values import (
    Section,
    check_line,
    checked,
    to_bool,
    to_int,
    to_list,
    to_number,
    to_str,
)

#: The most ``max_members`` may be: some 4.5 GiB of tracked users, for a bot in tens of
#: thousands of crowded channels; past it a typo (a zero too many) is refused.
MAX_MEMBERS_CEILING = 5_000_000

__all__ = ["SASL_KEYS", "read_networks"]

NETWORK_KEYS = (
    "name",
    "servers",
    "nick",
    "alt_nicks",
    "user",
    "realname",
    "password",
    "password_file",
    "sasl",
    "channels",
    "logging",
    "reconnect",
    "rejoin_after_kick",
    "quit_message",
    "line_rate",
    "registration_timeout",
    "ping_interval",
    "ping_timeout",
    "history_wait",
    "max_connections",
    "max_members",
)
SERVER_KEYS = (
    "host",
    "port",
    "tls",
    "verify",
    "ca_file",
    "client_cert",
    "client_key",
    "fingerprint",
)
CHANNEL_KEYS = ("name", "key", "key_file", "logging")
RECONNECT_KEYS = ("initial_delay", "max_delay", "factor", "jitter")
_TLS_ONLY = ("ca_file", "client_cert", "client_key")

_NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*")
_HOST = re.compile(r"[^\s/\[\]\x00-\x1f\x7f]+")
_CHANNEL_PREFIXES = "#&+!"
_CHANNEL_FORBIDDEN = " ,\x07\r\n\0"
_QUOTE_HINT = (
    "quote channel names (\"#chan\"): unquoted, YAML reads '#' as a comment, "
    "'&' as an anchor and '!' as a tag"
)


def _check_network_name(name: str) -> str | None:
    if _NETWORK_NAME.fullmatch(name):
        return None
    return f"bad network name {name!r}: letters, digits, '.', '_' and '-' only"


def _check_nick(nick: str) -> str | None:
    if _NICK.fullmatch(nick):
        return None
    return (
        f"bad nick {nick!r}: letters, digits and []\\`_^{{|}}- only, "
        "not starting with a digit or '-'"
    )


def _check_user(user: str) -> str | None:
    if user and not any(c.isspace() or c in "@\0" for c in user):
        return None
    return f"bad user name {user!r}: no spaces or '@'"


def _check_channel(name: str) -> str | None:
    if name[:1] in tuple(_CHANNEL_PREFIXES) and not any(c in name for c in _CHANNEL_FORBIDDEN):
        return None
    shown = name if len(name) <= 60 else name[:57] + "..."
    return (
        f"bad channel name {shown!r}: it must start with '#', '&', '+' or '!' and hold "
        "no space, comma, BEL, CR, LF or NUL"
    )


def _check_key(key: str) -> str | None:
    """A channel key (never quoted back: it is a secret)."""
    bad = any(c in key for c in " ,\r\n\0")
    return "must not contain a space, comma, CR, LF or NUL" if bad else None


def read_networks(reader: Reader, value: Any, top_log: LogOptions) -> tuple[NetworkConfig, ...]:
    if not isinstance(value, list):
        reader.problem("networks", "expected a list")
        return ()
    if not value:
        reader.problem("networks", "must list at least one network")
    networks: list[NetworkConfig] = []
    first: dict[str, int] = {}
    for index, raw in enumerate(value):
        network = _read_network(reader, item("networks", index), raw, top_log)
        if network is None:
            continue
        folded = network.name.lower()
        if folded and folded in first:
            reader.problem(
                join(item("networks", index), "name"),
                f"duplicate network name {network.name!r} (also networks[{first[folded]}])",
            )
        first.setdefault(folded, index)
        networks.append(network)
    return tuple(networks)


def _read_network(reader: Reader, path: str, raw: Any, top_log: LogOptions) -> Any:
    if not isinstance(raw, dict):
        reader.problem(path, "expected a mapping")
        return None
    net = Section(reader, path, raw, NETWORK_KEYS)
    servers = _read_servers(net)
    log = read_logging(reader, net.at("logging"), raw.get("logging"), top_log, "network")
    defaults = NetworkConfig(name="", servers=(), nick="")
    password = net.secret("password", check_line)
    sasl = read_sasl(net, servers)
    warn_plaintext(net, servers, password, sasl)
    return NetworkConfig(
        name=net.get("name", checked(_check_network_name), "", required=True),
        servers=servers,
        nick=net.get("nick", checked(_check_nick), "", required=True),
        alt_nicks=net.get("alt_nicks", _to_optional_list(checked(_check_nick)), ()),
        user=net.get("user", checked(_check_user), None, nullable=True),
        realname=net.get("realname", checked(check_line), defaults.realname),
        password=None if password is INVALID else password,
        sasl=sasl,
        channels=_read_channels(net, log),
        log=log,
        reconnect=_read_reconnect(net),
        rejoin_after_kick=net.get(
            "rejoin_after_kick", to_number(ge=0), defaults.rejoin_after_kick, nullable=True
        ),
        quit_message=net.get("quit_message", checked(check_line), defaults.quit_message),
        line_rate=net.get("line_rate", to_number(ge=0), None, nullable=True),
        registration_timeout=net.get(
            "registration_timeout", to_number(gt=0), defaults.registration_timeout
        ),
        history_wait=net.get("history_wait", to_number(ge=0), defaults.history_wait),
        max_connections=net.get("max_connections", to_int(1, 100), defaults.max_connections),
        max_members=net.get("max_members", to_int(1, MAX_MEMBERS_CEILING), defaults.max_members),
        **_read_keepalive(net, defaults),
    )


def _read_keepalive(net: Section, defaults: NetworkConfig) -> dict[str, float]:
    """``ping_interval`` and ``ping_timeout``: the PING must go out before the link is
    declared dead, so the interval must be shorter than the timeout."""
    read = {
        key: net.get(key, to_number(gt=0), INVALID) for key in ("ping_interval", "ping_timeout")
    }
    broken = any(net.has(key) and value is INVALID for key, value in read.items())
    out = {
        key: getattr(defaults, key) if value is INVALID else value for key, value in read.items()
    }
    if not broken and out["ping_interval"] >= out["ping_timeout"]:
        key = "ping_timeout" if net.has("ping_timeout") else "ping_interval"
        net.reader.problem(
            net.at(key),
            f"ping_timeout ({out['ping_timeout']:g}) must be greater than "
            f"ping_interval ({out['ping_interval']:g})",
        )
    return out


def _to_optional_list(each: Any) -> Any:
    """A list, where ``null`` (every item commented out) is the empty list."""
    convert = to_list(each)
    return lambda reader, path, value: () if value is None else convert(reader, path, value)


# -- servers -------------------------------------------------------------------------------


def _read_servers(net: Section) -> tuple[ServerConfig, ...]:
    servers: tuple[ServerConfig, ...] = net.get(
        "servers", to_list(_to_server, non_empty=True), (), required=True
    )
    return servers


def _to_server(reader: Reader, path: str, value: Any) -> Any:
    if isinstance(value, str):
        text = reader.expand(path, value)
        return INVALID if text is INVALID else _server_from_string(reader, path, text)
    if isinstance(value, dict):
        return _server_from_mapping(reader, path, value)
    reader.problem(path, "expected a string ('host' or 'host:port') or a mapping")
    return INVALID


def _split_server(text: str) -> tuple[str, str | None] | None:
    """``host``, ``host:port``, ``[v6addr]:port`` or a bare IPv6 address -> (host, port
    text or None); None if malformed."""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            return None
        return host, rest[1:] if rest else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None


def _server_from_string(reader: Reader, path: str, text: str) -> Any:
    parts = _split_server(text)
    host, port = parts if parts else ("", None)
    good_port = port is None or (
        port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535
    )
    if not host or _check_host(host) or not good_port:
        shown = text if len(text) <= 60 else text[:57] + "..."
        reader.problem(
            path,
            f"bad server {shown!r}: expected 'host' or 'host:port' with a port between 1 and 65535",
        )
        return INVALID
    return ServerConfig(host=host, port=int(port) if port else 6667)


def _check_host(host: str) -> str | None:
    """A name or an address (an IPv6 one has two colons or more, so one colon is a port)."""
    if host.count(":") == 1:
        return f"bad host name {host!r}: give the port as port"
    return None if _HOST.fullmatch(host) else f"bad host name {host!r}"


def _to_path(reader: Reader, path: str, value: Any) -> Any:
    """A certificate file: relative to the config's folder, and it must exist."""
    name = to_str(reader, path, value)
    if name is INVALID:
        return INVALID
    full = reader.resolve(name) if name else name
    if not full or not os.path.isfile(full):
        reader.problem(path, f"no such file: {full!r}")
        return INVALID
    return full


def _server_from_mapping(reader: Reader, path: str, raw: dict[Any, Any]) -> Any:
    server = Section(reader, path, raw, SERVER_KEYS)
    host = server.get("host", checked(_check_host), "", required=True)
    tls = server.get("tls", to_bool, False)
    port = server.get("port", to_int(1, 65535), 6697 if tls else 6667)
    files: dict[str, str | None] = dict.fromkeys(_TLS_ONLY)
    for key in _TLS_ONLY:
        if server.has(key) and not tls:
            reader.problem(server.at(key), "only used with tls: true")
        else:
            files[key] = server.get(key, _to_path, None, nullable=True)
    if server.has("client_key") and not server.has("client_cert"):
        reader.problem(server.at("client_key"), "client_key needs client_cert")
    verify = server.get("verify", to_bool, True)
    return ServerConfig(
        host=host,
        port=port,
        tls=tls,
        verify=verify,
        fingerprints=_read_pins(server, tls, verify),
        **files,
    )


def _to_pin(reader: Reader, path: str, value: Any) -> Any:
    text = to_str(reader, path, value)
    if text is INVALID:
        return INVALID
    try:
        return parse_pin(text)
    except ValueError as e:
        reader.problem(path, str(e))
        return INVALID


def _read_pins(server: Section, tls: bool, verify: bool) -> tuple[CertPin, ...]:
    """``fingerprint``: a pin or a list of them (logbot.config.pins).  A pin replaces
    the CA and name checks, so it needs TLS; ``verify: false`` (no check at all) or a
    ``ca_file`` (a CA check) beside it would contradict it, and is said rather than
    letting one of them silently win."""
    if server.data.get("fingerprint") is None:
        return ()
    where = server.at("fingerprint")
    if not tls:
        server.reader.problem(where, "only used with tls: true")
        return ()
    pins: tuple[CertPin, ...] = server.get(
        "fingerprint", to_list(_to_pin, single=True, non_empty=True), ()
    )
    if not verify:
        server.reader.problem(
            server.at("verify"),
            "verify: false turns every check off, the fingerprint's too: remove one of them",
        )
    if server.has("ca_file"):
        server.reader.problem(
            server.at("ca_file"),
            "not used with fingerprint (a pinned certificate is not checked against a CA):"
            " remove one of them",
        )
    return pins


# -- channels ------------------------------------------------------------------------------


def _read_channels(net: Section, log: LogOptions) -> tuple[ChannelConfig, ...]:
    raw = net.data.get("channels", [])
    path = net.at("channels")
    if not isinstance(raw, list):
        hint = f"; {_QUOTE_HINT}" if raw is None else ""
        net.reader.problem(path, "expected a list" + hint)
        return ()
    channels: list[ChannelConfig] = []
    first: dict[str, int] = {}
    for index, value in enumerate(raw):
        channel = _read_channel(net.reader, item(path, index), value, log)
        if channel is None:
            continue
        folded = channel.name.lower()
        if folded in first:
            net.reader.problem(
                item(path, index),
                f"duplicate channel {channel.name!r} (also {item(path, first[folded])})",
            )
            continue
        first[folded] = index
        channels.append(channel)
    return tuple(channels)


def _read_channel(reader: Reader, path: str, value: Any, log: LogOptions) -> Any:
    if value is None:
        reader.problem(path, f"expected a channel name; {_QUOTE_HINT}")
        return None
    if isinstance(value, str):
        name = checked(_check_channel)(reader, path, value)
        return None if name is INVALID else ChannelConfig(name=name, log=log)
    if not isinstance(value, dict):
        reader.problem(path, "expected a channel name or a mapping")
        return None
    channel = Section(reader, path, value, CHANNEL_KEYS)
    name = channel.get("name", checked(_check_channel), INVALID, required=True)
    key = channel.secret("key", _check_key)
    log = read_logging(reader, channel.at("logging"), value.get("logging"), log, "channel")
    if name is INVALID:
        return None
    return ChannelConfig(name=name, key=None if key is INVALID else key, log=log)


# -- reconnect -----------------------------------------------------------------------------


def _read_reconnect(net: Section) -> ReconnectOptions:
    defaults = ReconnectOptions()
    section = Section.open(
        net.reader, net.at("reconnect"), net.data.get("reconnect"), RECONNECT_KEYS
    )
    if section is None:
        return defaults
    initial = section.get("initial_delay", to_number(gt=0), INVALID)
    maximum = section.get("max_delay", to_number(gt=0), INVALID)
    broken = any(
        section.has(key) and value is INVALID
        for key, value in (("initial_delay", initial), ("max_delay", maximum))
    )
    options = ReconnectOptions(
        initial_delay=defaults.initial_delay if initial is INVALID else initial,
        max_delay=defaults.max_delay if maximum is INVALID else maximum,
        factor=section.get("factor", to_number(ge=1), defaults.factor),
        jitter=section.get("jitter", to_number(ge=0, lt=1), defaults.jitter),
    )
    if not broken and options.max_delay < options.initial_delay:
        key = "max_delay" if section.has("max_delay") else "initial_delay"
        net.reader.problem(
            section.at(key),
            f"max_delay ({options.max_delay:g}) must be at "
            f"least initial_delay ({options.initial_delay:g})",
        )
    return options
