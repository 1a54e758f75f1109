"""Certificate pinning: a server's TLS certificate accepted because it is the one the
config names (``fingerprint``: :mod:`logbot.config.pins`), not because a CA signed it.

With pins the context verifies nothing itself (``CERT_NONE``: no CA, no name, no dates,
so a self-signed, expired or foreign-named certificate can be the pinned one), and once
the handshake is done the certificate is compared with the pins (``hmac.compare_digest``),
*before* the connection is handed to the IRC protocol: nothing (PASS, NICK, SASL) is
sent to a server whose certificate does not match.

Where the comparison runs: in the TLS object's ``do_handshake``.  ``PinnedContext``
makes ``wrap_bio`` build a :class:`PinnedObject`, whose handshake raises
:class:`PinMismatch` (an ``ssl.SSLCertVerificationError``) when no pin matches.  The
reactor's TLS layer (:mod:`logbot.reactor.tls`) already reports whatever the handshake
raises as a failed connection, with the exception as the failure's cause: a mismatch
reaches ``clientConnectionFailed`` like a certificate OpenSSL refused, the reactor
needs no hook of ours, and :mod:`logbot.bot.conn_errors` turns it into a sentence that
shows the fingerprint the server presented, in the config's syntax, ready to pin.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import Iterable
from typing import Any

from logbot.bot.der import subject_public_key_info
from logbot.config.pins import CERTIFICATE, PUBLIC_KEY, CertPin

__all__ = ["PinMismatch", "PinnedContext", "PinnedObject", "matches", "pinned_context", "seen"]


def seen(certificate: bytes) -> tuple[CertPin, ...]:
    """The pins ``certificate`` (DER) would match: its SHA-256, and its public key's
    when the key can be read from it."""
    pins = [CertPin(CERTIFICATE, hashlib.sha256(certificate).digest())]
    try:
        key = subject_public_key_info(certificate)
    except ValueError:
        return tuple(pins)
    pins.append(CertPin(PUBLIC_KEY, hashlib.sha256(key).digest()))
    return tuple(pins)


def matches(certificate: bytes, pins: Iterable[CertPin]) -> bool:
    """Whether the DER ``certificate`` matches one of ``pins``."""
    found = {pin.kind: pin.digest for pin in seen(certificate)}
    matched = False
    for pin in pins:
        digest = found.get(pin.kind)
        if digest is not None and hmac.compare_digest(digest, pin.digest):
            matched = True
    return matched


class PinMismatch(ssl.SSLCertVerificationError):
    """The server's certificate matched no pin.  ``presented``: the pins it would have
    matched (what to pin, if it is the right one); ``certificate``: its DER bytes
    (None: the server sent none)."""

    def __init__(self, presented: tuple[CertPin, ...], certificate: bytes | None) -> None:
        if certificate is None:
            what = "the server sent no certificate"
        else:
            what = f"the certificate is {presented[0]}"
            if len(presented) > 1:
                what += f" (its public key: {presented[1]})"
        message = f"no pinned fingerprint matches: {what}"
        super().__init__(message)
        self.presented = presented
        self.certificate = certificate
        # what logbot.reactor.tls.describe shows: "certificate verify failed: <this>"
        self.verify_message = message
        self.verify_code = 0


class PinnedObject(ssl.SSLObject):
    """A client's TLS object that checks the pins when its handshake is done."""

    def do_handshake(self) -> None:
        super().do_handshake()  # (raises SSLWantReadError until the handshake is done)
        context = self.context
        pins = context.pins if isinstance(context, PinnedContext) else ()
        certificate = self.getpeercert(True)
        if not certificate:
            raise PinMismatch((), None)
        if not pins or not matches(certificate, pins):  # (no pins: refused, never open)
            raise PinMismatch(seen(certificate), certificate)


class PinnedContext(ssl.SSLContext):
    """A client context whose connections check ``pins`` after the handshake."""

    sslobject_class = PinnedObject
    pins: tuple[CertPin, ...] = ()

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: an ``SSLSocket`` would not run :class:`PinnedObject`'s check, and
        with ``CERT_NONE`` it would accept any certificate.  Closed, not open, if a
        caller ever tries (the reactor uses ``wrap_bio``)."""
        raise TypeError("a pinned context checks its pins in wrap_bio's objects only")


def pinned_context(pins: Iterable[CertPin]) -> PinnedContext:
    """A client context that accepts the certificates matching ``pins`` and no other:
    the protocol versions and ciphers ``ssl.create_default_context`` has too (it
    starts from the same ``PROTOCOL_TLS_CLIENT``), no CA, name or date check (the pin
    is the check)."""
    context = PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.pins = tuple(pins)
    return context
