"""A network's ``sasl`` mapping, and the warning about secrets sent without TLS.

Why apart from :mod:`.networks_section`: the login is its own set of rules (which
mechanism needs a password, a client certificate or a key; the ECDSA key read and
checked at load, with the optional ``cryptography`` package), and the warning about a
server password or a SASL PLAIN password crossing the network in the clear is about
the same secrets.  ``read_sasl`` and ``warn_plaintext`` are called by the networks
reader with the network's section and its servers, once those were read.

The warning is only a warning: a bouncer or a server on a trusted network may have no
TLS; a loopback address (127.0.0.0/8, ``::1``, ``localhost``) never leaves the machine
and is not warned about.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from logbot.config.reader import INVALID, item, join
from logbot.config.settings import SaslOptions, ServerConfig
from logbot.config.values import Section, check_line, checked, to_bool, to_choice, to_list
from logbot.irc.sasl_ecdsa import MECHANISM as ECDSA
from logbot.irc.sasl_ecdsa import EcdsaError, missing_library, public_key_base64

__all__ = ["MECHANISMS", "SASL_KEYS", "read_sasl", "warn_plaintext"]

SASL_KEYS = ("username", "password", "password_file", "key", "key_file", "mechanisms", "required")
MECHANISMS = ("SCRAM-SHA-256", "PLAIN", "EXTERNAL", ECDSA)
_NEED_PASSWORD = ("SCRAM-SHA-256", "PLAIN")


def _check_username(name: str) -> str | None:
    return "must not be empty" if not name else check_line(name)


def read_sasl(net: Section, servers: tuple[ServerConfig, ...]) -> SaslOptions | None:
    if net.data.get("sasl") is None:
        return None
    sasl = Section.open(net.reader, net.at("sasl"), net.data["sasl"], SASL_KEYS)
    if sasl is None:
        return None
    defaults = SaslOptions()
    password = sasl.secret("password")
    mechanisms = sasl.get(
        "mechanisms",
        to_list(to_choice(MECHANISMS, fold=True), single=True, unique=True, non_empty=True),
        defaults.mechanisms,
    )
    needs = [m for m in mechanisms if m in _NEED_PASSWORD]
    if needs and password is None:
        verb = "needs" if len(needs) == 1 else "need"
        net.reader.problem(
            sasl.path,
            f"{' and '.join(needs)} {verb} password or "
            "password_file (or set mechanisms: [EXTERNAL])",
        )
    if "EXTERNAL" in mechanisms and net.has("servers"):
        _check_external(net, sasl, servers, only=len(mechanisms) == 1)
    key = _read_ecdsa_key(sasl, mechanisms)
    return SaslOptions(
        username=sasl.get("username", checked(_check_username), None, nullable=True),
        password=None if password is INVALID else password,
        mechanisms=mechanisms,
        required=sasl.get("required", to_bool, defaults.required),
        key=key,
        public_key=None if key is None else public_key_base64(key.reveal()),
    )


def _check_ecdsa_key(text: str) -> str | None:
    """What is wrong with an ECDSA private key (never quoting it); None when it is fine,
    or when ``cryptography`` is missing (that is said once, at ``mechanisms``)."""
    if missing_library() is not None:
        return None
    try:
        public_key_base64(text)
    except EcdsaError as exc:
        return str(exc)
    return None


def _read_ecdsa_key(sasl: Section, mechanisms: tuple[str, ...]) -> Any:
    """``key`` or ``key_file``: read and checked at load, so that a bad key is a config
    error now rather than a failed login at the next connection.  The mechanism needs
    the key and the ``cryptography`` package, and the key needs the mechanism (a key
    that would never be used is a mistake worth saying).  None unless all is well."""
    key = sasl.secret("key", _check_ecdsa_key)
    if ECDSA not in mechanisms:
        if key is not None:
            sasl.reader.problem(
                sasl.at(_given(sasl, "key")), f"only used by {ECDSA}: add it to mechanisms"
            )
        return None
    missing = missing_library()
    if missing is not None:
        sasl.reader.problem(sasl.at("mechanisms"), missing)
        return None
    if key is None:
        sasl.reader.problem(sasl.path, f"{ECDSA} needs key_file (or key): the private key")
    return None if key is INVALID else key


def _check_external(
    net: Section, sasl: Section, servers: tuple[ServerConfig, ...], only: bool
) -> None:
    """EXTERNAL authenticates with the TLS client certificate: some server needs one,
    and every server does when EXTERNAL is the only mechanism."""
    if not servers or len(servers) != len(net.data["servers"]):
        return  # a server is broken and already reported
    with_cert = [s.client_cert is not None for s in servers]
    if not any(with_cert):
        net.reader.problem(
            join(sasl.path, "mechanisms"),
            "EXTERNAL needs a TLS client certificate: set "
            f"{join(item(net.at('servers'), 0), 'client_cert')}",
        )
    elif only:
        for index, has in enumerate(with_cert):
            if not has:
                net.reader.problem(
                    item(net.at("servers"), index),
                    "no client_cert, but the only SASL mechanism is EXTERNAL",
                )


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ``::1`` or the name ``localhost``: traffic that stays on this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_plaintext(
    net: Section, servers: tuple[ServerConfig, ...], password: Any, sasl: SaslOptions | None
) -> None:
    """Warn, per server without TLS that is not a loopback address, when a server
    password or a SASL PLAIN password would be sent there in the clear.  The warning
    names the key the secret came from, never the secret."""
    sent: list[str] = []
    if password is not None and password is not INVALID:
        sent.append(f"the server password ({_given(net, 'password')})")
    if sasl is not None and sasl.password is not None and "PLAIN" in sasl.mechanisms:
        section = net.data.get("sasl") or {}
        key = "sasl.password_file" if "password_file" in section else "sasl.password"
        sent.append(f"the SASL PLAIN password ({key})")
    raw = net.data.get("servers")
    if not sent or not isinstance(raw, list) or len(raw) != len(servers):
        return  # nothing secret to send, or a server is broken and already reported
    what = " and ".join(sent)
    for index, server in enumerate(servers):
        if not server.tls and not _is_loopback(server.host):
            net.reader.warn(
                item(net.at("servers"), index),
                f"{what} would be sent without TLS to {server.host}:{server.port}, readable "
                "on the way (set tls: true, or connect to a loopback address)",
            )


def _given(section: Section, key: str) -> str:
    """``key`` or ``key_file``: the one the config gave."""
    return f"{key}_file" if section.has(f"{key}_file") else key
