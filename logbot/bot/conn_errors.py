"""Why a connection to a server failed, in one sentence that says what to do.

The reactor's reasons are exact but written for programmers (``Connection was refused
by other side: Connection refused: 127.0.0.1: ECONNREFUSED``, ``wrong version number``);
the person reading the bot's log on its first run needs to know which setting to look
at.  :func:`explain` turns a connection failure into that sentence, for the bot's log
(:class:`~logbot.bot.network.NetworkBot`) and for ``logbot check --connect``:

- refused: nothing listens on that port;
- timed out: a firewall, or the wrong address;
- a name that does not resolve;
- TLS against a plain-text port (the server answered the handshake with IRC text, or
  closed it): is that port a TLS port?
- a certificate that is not trusted (self-signed, or from a CA the system does not
  know): name ``ca_file`` and ``verify: false``; one for another name; one expired;
- a certificate that matches no pinned ``fingerprint``: the one it has, in the config's
  syntax, so that it can be pinned once it is known to be the right one.

A TLS failure is explained from the ``ssl`` error the reactor keeps as the failure's
``__cause__`` (OpenSSL's verification codes and reason names, not its message texts,
which change between versions).  Nothing here sees a secret: the reasons hold
addresses and certificate problems only.
"""

from __future__ import annotations

import re
import ssl

from logbot.bot.pins import PinMismatch
from logbot.config.settings import ServerConfig
from logbot.reactor import error

__all__ = ["explain", "is_certificate_problem"]

# OpenSSL's X509_V_ERR_* codes (stable: they are part of its ABI).
_EXPIRED = 10
_NOT_YET_VALID = 9
_NAME_MISMATCH = frozenset({62, 64})  # host name, IP address
#: OpenSSL reasons (``SSLError.reason``) that mean the other side does not speak TLS:
#: it answered the ClientHello with plain text (an IRC line) or hung up on it.
_NOT_TLS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
        "UNEXPECTED_EOF_WHILE_READING",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
    }
)
#: Alerts a server sends when it wants a client certificate or refuses ours.
_CLIENT_CERT = frozenset(
    {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE", "TLSV1_ALERT_UNKNOWN_CA"}
)
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


def _where(server: ServerConfig) -> str:
    host = f"[{server.host}]" if ":" in server.host else server.host
    return f"{host}:{server.port}"


def is_certificate_problem(exc: BaseException) -> bool:
    """True when ``exc`` is a TLS failure because the certificate was not accepted
    (then the certificate is worth showing: ``check --connect`` fetches it)."""
    return isinstance(exc, error.TLSError) and isinstance(
        exc.__cause__, ssl.SSLCertVerificationError
    )


def explain(exc: BaseException, server: ServerConfig, timeout: float | None = None) -> str:
    """One sentence for why connecting to ``server`` failed, and what to do about it
    (``timeout``: the seconds the attempt was given, said when it timed out)."""
    where = _where(server)
    if isinstance(exc, error.ConnectionRefusedError):
        return f"{where} refused the connection (nothing listens there?)"
    if isinstance(exc, TimeoutError):  # (the reactor's is one)
        within = f" within {timeout:g} s" if timeout else ""
        return f"{where} did not answer{within} (a firewall, or the wrong address or port?)"
    if isinstance(exc, error.DNSLookupError):
        why = _ERRNO.sub("", exc.string or "") or "no address found"
        return f"cannot look up {server.host}: {why} (is the name right?)"
    if isinstance(exc, error.NoRouteError):
        return f"no route to {where}: {exc.osError or 'unreachable'} (is the network up?)"
    if isinstance(exc, error.TLSError):
        return _tls(exc, server, where)
    if isinstance(exc, error.ConnectError):
        detail = ": ".join(s for s in (exc.osError, exc.string) if s) or type(exc).__name__
        return f"cannot connect to {where}: {detail}"
    return f"cannot connect to {where}: {exc}"


def _tls(exc: error.TLSError, server: ServerConfig, where: str) -> str:
    cause = exc.__cause__
    if isinstance(cause, PinMismatch):
        return _pin_mismatch(cause, server, where)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return _certificate(cause, server, where)
    reason = getattr(cause, "reason", None)
    if isinstance(cause, error.ConnectionClosed | ssl.SSLEOFError) or reason in _NOT_TLS:
        return (
            f"{where}: the TLS handshake failed: is {server.port} a TLS port? (tls: true is"
            " set, and the server answered in plain text or hung up; plain IRC is usually"
            " on 6667, TLS on 6697)"
        )
    if reason in _CLIENT_CERT:
        mine = f"our client_cert {server.client_cert}" if server.client_cert else "none was set"
        return (
            f"{where}: the server did not accept the TLS client certificate ({mine}):"
            " is client_cert the one registered with the network?"
        )
    return f"{where}: the TLS handshake failed: {exc.string or exc}"


def _pin_mismatch(cause: PinMismatch, server: ServerConfig, where: str) -> str:
    pinned = ", ".join(str(pin) for pin in server.fingerprints) or "none"
    if not cause.presented:
        return f"{where}: the server sent no TLS certificate (pinned: {pinned}); refused"
    has = f"fingerprint: {cause.presented[0]}"
    if len(cause.presented) > 1:
        has += f" (its public key: fingerprint: {cause.presented[1]})"
    return (
        f"{where}: the server's TLS certificate matches no pinned fingerprint (pinned:"
        f" {pinned}); refused. It has {has}: if that is the right certificate (its"
        " operators replaced the old one), pin it"
    )


def _certificate(cause: ssl.SSLCertVerificationError, server: ServerConfig, where: str) -> str:
    why = cause.verify_message or "certificate verify failed"
    code = cause.verify_code
    if code in _NAME_MISMATCH:
        return (
            f"{where}: the server's TLS certificate is not for {server.host} ({why}): set host"
            " to a name the certificate is for, or verify: false (nothing is checked then)"
        )
    if code in (_EXPIRED, _NOT_YET_VALID):
        when = "has expired" if code == _EXPIRED else "is not valid yet"
        return (
            f"{where}: the server's TLS certificate {when} ({why}): check this machine's"
            " clock, tell the server's operators, or set verify: false"
        )
    if server.ca_file:
        return (
            f"{where}: the server's TLS certificate is not trusted by ca_file"
            f" {server.ca_file} ({why}): is that the CA that signed it? (or set verify: false"
            " to accept any certificate)"
        )
    return (
        f"{where}: the server's TLS certificate is not trusted ({why}): if it is"
        " self-signed or from a private CA, set ca_file: to that certificate or CA (a PEM"
        " file), or verify: false to accept any certificate"
    )
