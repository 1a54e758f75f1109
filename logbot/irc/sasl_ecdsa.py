"""The keys and the signature of SASL ``ECDSA-NIST256P-CHALLENGE``, through ``cryptography``.

The mechanism is Atheme's (``saslserv/ecdsa-nist256p-challenge``, with ``ecdsatool`` as
its reference client): a login by a key pair instead of a password, where the services
keep the public key of the account (Atheme: ``/msg NickServ SET PUBKEY <key>``) and the
client proves that it holds the private one.  The exchange:

1. the client sends ``AUTHENTICATE ECDSA-NIST256P-CHALLENGE``, the server ``+``;
2. the client sends its account name;
3. the server sends a random 32-byte challenge;
4. the client sends the DER-encoded ECDSA signature (curve NIST P-256) *of the challenge
   bytes themselves*: they are the digest, they are not hashed first.  That is what
   ``ecdsatool sign`` does (OpenSSL's ``ECDSA_sign(0, challenge, 32, ...)``) and what
   Atheme checks; recent Atheme also takes a signature of SHA-256(challenge) (its
   issue 684), older releases do not, so the raw form is the one that works everywhere.  In
   ``cryptography`` that is ``ECDSA(Prehashed(SHA256()))``, which also refuses a
   challenge that is not exactly 32 bytes.

Why a module of its own: the config reads the key at load time (a bad key is a config
error then, not a failed login at the first connection, hours later) and the SASL
mechanism (:class:`logbot.irc.sasl.EcdsaNist256pChallenge`) signs with it; both need the
same reading of the key formats.  And neither may import ``cryptography`` unless the
mechanism is configured: it is an optional extra (``pip install 'logbot[ecdsa]'``),
so every import of it is inside a function, and :func:`missing_library` says what to
install.  No elliptic-curve arithmetic is done here: ``cryptography`` (OpenSSL) does it.

Key formats read (the text of ``sasl.key_file``, or ``sasl.key``):

* PEM: ``EC PRIVATE KEY`` (SEC 1: what ``ecdsatool keygen`` and ``openssl ecparam
  -genkey`` write, with or without the ``EC PARAMETERS`` block before it) or
  ``PRIVATE KEY`` (PKCS #8).  Not an encrypted one: the bot starts unattended, with no
  one to type a passphrase;
* base64 without the PEM lines: of the same DER (SEC 1 or PKCS #8), or of the 32-byte
  private number itself (the raw form).

The public key in the services' format, the base64 of the compressed point (33 bytes),
is what ``ecdsatool pubkey`` prints: :func:`public_key_base64` gives it, so that the
operator knows what to register.

A key is a secret: no message raised here quotes it or any part of it, and the
exceptions of ``cryptography`` (which could) are dropped, not chained.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = [
    "CHALLENGE_SIZE",
    "INSTALL",
    "MECHANISM",
    "EcdsaError",
    "load_private_key",
    "missing_library",
    "public_key_base64",
    "sign_challenge",
]

MECHANISM = "ECDSA-NIST256P-CHALLENGE"
#: The challenge Atheme sends: 32 random bytes, the size of a P-256 digest.
CHALLENGE_SIZE = 32
#: What to run when ``cryptography`` is missing.
INSTALL = "pip install 'logbot[ecdsa]'"
_CURVE = "secp256r1"  # NIST P-256, OpenSSL's prime256v1
_RAW_SIZE = 32  # the private number of a P-256 key, big-endian
_POINT_PREFIXES = (2, 3, 4)  # the first byte of an encoded EC point (X9.62)


class EcdsaError(ValueError):
    """A key or a challenge that cannot be used.  The message never holds the key."""


def missing_library() -> str | None:
    """What to install when ``cryptography`` cannot be imported, else None."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: F401
    except ImportError:
        return f"{MECHANISM} needs the 'cryptography' package: {INSTALL}"
    return None


def load_private_key(text: str) -> EllipticCurvePrivateKey:
    """The P-256 private key in ``text`` (see the module docstring for the formats).

    :class:`EcdsaError` says what is wrong with it (the format, the kind of key, the
    curve), without quoting it.
    """
    missing = missing_library()
    if missing is not None:
        raise EcdsaError(missing)
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        load_der_private_key,
        load_pem_private_key,
    )

    stripped = text.strip()
    try:
        if "-----BEGIN" in stripped:
            _check_pem_labels(stripped)
            key = load_pem_private_key(stripped.encode(), password=None)
        else:
            data = _base64(stripped)
            if len(data) == _RAW_SIZE:
                key = _from_number(data)
            elif len(data) in (33, 65) and data[0] in _POINT_PREFIXES:
                raise EcdsaError(
                    "this is a public key (the one the services keep), not the private key"
                )
            else:
                key = load_der_private_key(data, password=None)
    except EcdsaError:
        raise
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise EcdsaError(_ENCRYPTED) from None
    except (ValueError, UnsupportedAlgorithm):
        raise EcdsaError(
            "not a private key: expected PEM (EC PRIVATE KEY or PRIVATE KEY), or base64 of "
            "its DER or of the 32-byte private number"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise EcdsaError(
            f"not an elliptic-curve key ({_kind(key)}): {MECHANISM} needs a NIST P-256 "
            "(prime256v1) key"
        )
    if key.curve.name != _CURVE:
        raise EcdsaError(
            f"a key on the curve {key.curve.name}: {MECHANISM} needs NIST P-256 "
            "(prime256v1, secp256r1)"
        )
    return key


_ENCRYPTED = (
    "the key is encrypted with a passphrase, which the bot cannot type: decrypt it "
    "(openssl ec -in KEY -out PLAIN.pem) and keep that file readable by the bot only"
)


def _from_number(data: bytes) -> EllipticCurvePrivateKey:
    """The key whose private number is ``data`` (32 bytes, big-endian)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        return ec.derive_private_key(int.from_bytes(data, "big"), ec.SECP256R1())
    except ValueError:
        raise EcdsaError(
            "the 32-byte private number is not a P-256 key (zero, or not below the order "
            "of the curve)"
        ) from None


def _check_pem_labels(text: str) -> None:
    """Say what a PEM file holds when it is not an unencrypted private key (a public key
    or a certificate given by mistake, or an encrypted key) before cryptography says
    only that it cannot read it.  Only the armour and header lines are looked at."""
    labels = " ".join(
        line for line in text.splitlines() if line.startswith(("-----", "Proc-Type:"))
    )
    if "ENCRYPTED" in labels:
        raise EcdsaError(_ENCRYPTED)
    if "PRIVATE KEY-----" not in labels:
        if "PUBLIC KEY-----" in labels:
            raise EcdsaError("the PEM holds a public key, not the private key")
        if "CERTIFICATE-----" in labels:
            raise EcdsaError("the PEM holds a certificate, not a private key")


def _base64(text: str) -> bytes:
    """Base64 over one line or several (line breaks and spaces are ignored)."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error:
        raise EcdsaError(
            "not a private key: neither PEM nor base64 (of DER, or of the 32-byte private number)"
        ) from None


def _kind(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa

    kinds = (
        (rsa.RSAPrivateKey, "RSA"),
        (ed25519.Ed25519PrivateKey, "Ed25519"),
        (ed448.Ed448PrivateKey, "Ed448"),
    )
    return next((name for cls, name in kinds if isinstance(key, cls)), "another kind of key")


def public_key_base64(text: str) -> str:
    """The public key of the private key in ``text``, as the services store it: the
    compressed point in base64 (what ``ecdsatool pubkey`` prints)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = (
        load_private_key(text)
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    )
    return base64.b64encode(point).decode("ascii")


def sign_challenge(text: str, challenge: bytes) -> bytes:
    """The DER signature of ``challenge`` (the raw 32 bytes as the digest) with the key in
    ``text``.  :class:`EcdsaError` for a challenge of another size or a bad key."""
    if len(challenge) != CHALLENGE_SIZE:
        raise EcdsaError(
            f"the server's challenge is {len(challenge)} bytes, not the {CHALLENGE_SIZE} "
            f"of {MECHANISM}"
        )
    key = load_private_key(text)
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from cryptography.hazmat.primitives.hashes import SHA256

    return key.sign(challenge, ec.ECDSA(Prehashed(SHA256())))
