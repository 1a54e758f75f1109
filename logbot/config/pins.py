"""Certificate pins: the ``fingerprint`` of a server entry.

A pin says which certificate a server must show, instead of which CA must have signed
it: a self-signed certificate, one for another name, or an expired one is accepted when
it matches, and any other is refused, however well signed (see
:mod:`logbot.bot.pins`).  Two kinds, as the SHA-256 of DER bytes:

- ``sha256:AB:CD:...``: the certificate's (what ``logbot check --connect``, browsers
  and ``openssl x509 -noout -fingerprint -sha256`` show).  It changes at each renewal.
- ``spki-sha256:...`` (or ``pubkey-sha256:``): its SubjectPublicKeyInfo, the public key.
  It survives a renewal that keeps the key.

The hex may have colons between its bytes, or none, in either case; a prefix is
required, because the two kinds cannot be told apart by their digits.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CERTIFICATE", "DIGEST_SIZE", "PUBLIC_KEY", "CertPin", "colon_hex", "parse_pin"]

CERTIFICATE = "sha256"
PUBLIC_KEY = "spki-sha256"
#: The prefixes a pin may have -> its kind.
PREFIXES = {"sha256": CERTIFICATE, "spki-sha256": PUBLIC_KEY, "pubkey-sha256": PUBLIC_KEY}
DIGEST_SIZE = 32  # bytes of a SHA-256 digest
#: The longest pin text read (the longest valid one is 13 + 95 characters): a longer
#: one is refused without being copied into the message.
MAX_PIN_TEXT = 200


@dataclass(frozen=True)
class CertPin:
    kind: str  # CERTIFICATE or PUBLIC_KEY
    digest: bytes  # DIGEST_SIZE bytes

    def __str__(self) -> str:
        """The form the config takes (and the error messages show)."""
        return f"{self.kind}:{colon_hex(self.digest)}"


def colon_hex(digest: bytes) -> str:
    """``AB:CD:...``: upper-case hex, a colon between bytes."""
    return ":".join(f"{byte:02X}" for byte in digest)


def parse_pin(text: str) -> CertPin:
    """``sha256:AB:CD:...`` / ``spki-sha256:abcd...`` -> a pin.

    :raises ValueError: with what is wrong (for the config's problem list).
    """
    if len(text) > MAX_PIN_TEXT:
        raise ValueError(f"too long for a fingerprint ({len(text)} characters)")
    prefix, sep, digits = text.strip().partition(":")
    kind = PREFIXES.get(prefix.lower()) if sep else None
    if kind is None:
        raise ValueError(
            f"bad fingerprint {text!r}: expected sha256:<hex> (the certificate's SHA-256, "
            "as `logbot check --connect` shows it) or spki-sha256:<hex> (its public key's)"
        )
    hex_digits = digits.replace(":", "")
    try:
        digest = bytes.fromhex(hex_digits) if hex_digits.isascii() else b""
    except ValueError:
        digest = b""
    if len(digest) != DIGEST_SIZE or len(hex_digits) != 2 * DIGEST_SIZE:
        raise ValueError(
            f"bad fingerprint {text!r}: a SHA-256 is {DIGEST_SIZE} bytes, "
            f"{2 * DIGEST_SIZE} hex digits (colons between the bytes are optional)"
        )
    return CertPin(kind, digest)
