"""SASL ECDSA-NIST256P-CHALLENGE: the key formats, the signature, and the session on the wire.

Every signature is checked with the public key alone, over the raw challenge (as Atheme
checks it), and ecdsatool's own published example pins the convention: its signature
of the raw challenge verifies, a signature of the hashed challenge would not.  A
problem (a bad key, a challenge of the wrong size, one that is not base64) must end the
login with a reason, never an exception out of the session, and never show the key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys

import pytest
import trustme
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.hashes import SHA256

from logbot.irc.message import parse
from logbot.irc.sasl import EcdsaNist256pChallenge, SaslConfig, SaslError, SaslSession, Secret
from logbot.irc.sasl_ecdsa import (
    EcdsaError,
    load_private_key,
    missing_library,
    public_key_base64,
    sign_challenge,
)
from tests.irc.ecdsa_keys import (
    ECDSATOOL_CHALLENGE,
    ECDSATOOL_PRIVATE,
    ECDSATOOL_PUBLIC,
    ECDSATOOL_SIGNATURE,
    formats,
    new_key,
    public_base64,
    secret_pieces,
    verifies,
)

ECDSA = "ECDSA-NIST256P-CHALLENGE"
KEY = new_key()
FORMATS = formats(KEY)
PUBLIC = public_base64(KEY)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_hides(text: str, key_text: str) -> None:
    for piece in secret_pieces(key_text):
        assert piece not in text, f"a piece of the key is shown: {text!r}"


# -- ecdsatool's example: the convention, and the raw key format -------------------------


def test_ecdsatools_signature_is_of_the_raw_challenge() -> None:
    signature = base64.b64decode(ECDSATOOL_SIGNATURE)
    assert verifies(ECDSATOOL_PUBLIC, ECDSATOOL_CHALLENGE, signature)
    # the same check over SHA-256(challenge): not what ecdsatool signed
    hashed = hashlib.sha256(ECDSATOOL_CHALLENGE).digest()
    assert not verifies(ECDSATOOL_PUBLIC, hashed, signature)


def test_ecdsatools_key_gives_its_public_key_and_signs_what_its_services_accept() -> None:
    raw = b64(ECDSATOOL_PRIVATE)
    assert public_key_base64(raw) == ECDSATOOL_PUBLIC
    signature = sign_challenge(raw, ECDSATOOL_CHALLENGE)
    assert verifies(ECDSATOOL_PUBLIC, ECDSATOOL_CHALLENGE, signature)


# -- every key format --------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_each_format_signs_a_challenge_the_public_key_verifies(kind: str) -> None:
    text = FORMATS[kind]
    assert public_key_base64(text) == PUBLIC
    for _ in range(3):
        challenge = secrets.token_bytes(32)
        signature = sign_challenge(text, challenge)
        assert signature[0] == 0x30  # DER: a SEQUENCE of r and s
        assert verifies(PUBLIC, challenge, signature)
        # and it is not a signature of another challenge
        assert not verifies(PUBLIC, bytes(32), signature)


def _p384_pem() -> str:
    key = ec.generate_private_key(ec.SECP384R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _encrypted(fmt: serialization.PrivateFormat, encoding: serialization.Encoding) -> str:
    data = KEY.private_bytes(encoding, fmt, serialization.BestAvailableEncryption(b"pass"))
    return data.decode() if encoding is serialization.Encoding.PEM else b64(data)


def _ed25519_pem() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _public_pem() -> str:
    return (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


BAD_KEYS = {
    "text": ("hello, I am not a key", "not a private key: neither PEM nor base64"),
    "base64 junk": (b64(b"x" * 50), "not a private key: expected PEM"),
    "PEM junk": (
        "-----BEGIN EC PRIVATE KEY-----\nQUJDRA==\n-----END EC PRIVATE KEY-----",
        "not a private key: expected PEM",
    ),
    "public key (services' format)": (PUBLIC, "this is a public key"),
    "public key, uncompressed": (
        b64(
            KEY.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ),
        "this is a public key",
    ),
    "public key PEM": (_public_pem(), "the PEM holds a public key, not the private key"),
    "certificate": (
        trustme.CA().cert_pem.bytes().decode(),
        "the PEM holds a certificate, not a private key",
    ),
    "encrypted PKCS8 PEM": (
        _encrypted(serialization.PrivateFormat.PKCS8, serialization.Encoding.PEM),
        "the key is encrypted with a passphrase",
    ),
    "encrypted SEC1 PEM": (
        _encrypted(serialization.PrivateFormat.TraditionalOpenSSL, serialization.Encoding.PEM),
        "the key is encrypted with a passphrase",
    ),
    "encrypted PKCS8 DER": (
        _encrypted(serialization.PrivateFormat.PKCS8, serialization.Encoding.DER),
        "the key is encrypted with a passphrase",
    ),
    "P-384": (_p384_pem(), "a key on the curve secp384r1: ECDSA-NIST256P-CHALLENGE needs"),
    "Ed25519": (_ed25519_pem(), "not an elliptic-curve key (Ed25519)"),
    "raw zero": (b64(bytes(32)), "the 32-byte private number is not a P-256 key"),
    "raw over the order": (b64(b"\xff" * 32), "the 32-byte private number is not a P-256 key"),
}


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_a_bad_key_is_refused_with_what_is_wrong_and_without_quoting_it(name: str) -> None:
    text, expected = BAD_KEYS[name]
    with pytest.raises(EcdsaError) as info:
        load_private_key(text)
    message = str(info.value)
    assert message.startswith(expected), message
    assert info.value.__cause__ is None  # nothing of cryptography's is chained
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert_hides(message, text)


def test_the_challenge_must_be_32_bytes() -> None:
    for size in (0, 1, 31, 33, 64):
        with pytest.raises(EcdsaError, match=f"challenge is {size} bytes, not the 32 of"):
            sign_challenge(FORMATS["pem-sec1"], b"c" * size)


# -- the mechanism -------------------------------------------------------------------------


def test_mechanism_sends_the_account_then_the_signature() -> None:
    mech = EcdsaNist256pChallenge("logbot", Secret(FORMATS["pem-pkcs8"]))
    assert mech.respond(b"") == b"logbot"
    challenge = bytes(range(32))
    assert verifies(PUBLIC, challenge, mech.respond(challenge))
    with pytest.raises(SaslError, match="unexpected extra challenge"):
        mech.respond(b"")


def test_mechanism_failures_are_sasl_errors_without_the_key() -> None:
    text = FORMATS["pem-sec1"]
    mech = EcdsaNist256pChallenge("logbot", Secret(text))
    mech.respond(b"")
    with pytest.raises(SaslError, match="challenge is 31 bytes") as info:
        mech.respond(b"c" * 31)
    assert info.value.__suppress_context__
    nokey = EcdsaNist256pChallenge("logbot", None)
    nokey.respond(b"")
    with pytest.raises(SaslError, match="no private key configured"):
        nokey.respond(bytes(32))
    shown = repr(mech) + str(mech) + repr(SaslConfig(key=Secret(text), mechanisms=(ECDSA,)))
    assert_hides(shown, text)
    assert "EcdsaNist256pChallenge(username='logbot', step=2)" in shown


# -- the session, line by line -------------------------------------------------------------


def _session(**config: object) -> SaslSession:
    defaults: dict[str, object] = {
        "username": "logbot",
        "key": Secret(FORMATS["base64-raw"]),
        "mechanisms": (ECDSA,),
    }
    defaults.update(config)
    return SaslSession(SaslConfig(**defaults), [ECDSA, "PLAIN"])  # type: ignore[arg-type]


def test_session_logs_in() -> None:
    session = _session()
    assert session.start(0.0) == [f"AUTHENTICATE {ECDSA}"]
    assert session.handle(parse("AUTHENTICATE +"), 1.0) == [f"AUTHENTICATE {b64(b'logbot')}"]
    challenge = secrets.token_bytes(32)
    (line,) = session.handle(parse(f"AUTHENTICATE {b64(challenge)}"), 2.0)
    command, payload = line.split(" ")
    assert command == "AUTHENTICATE"
    assert verifies(PUBLIC, challenge, base64.b64decode(payload))
    session.handle(parse(":srv 900 logbot logbot!u@h logbot :You are now logged in"), 3.0)
    session.handle(parse(":srv 903 logbot :SASL authentication successful"), 3.0)
    assert (session.done, session.success, session.account) == (True, True, "logbot")
    assert session.mechanism == ECDSA


@pytest.mark.parametrize(
    "challenge, reason",
    [
        ("QUJD", "the server's challenge is 3 bytes, not the 32 of ECDSA-NIST256P-CHALLENGE"),
        (b64(b"c" * 48), "the server's challenge is 48 bytes, not the 32"),
        ("!!not*base64!!", "the server's challenge is not base64"),
        ("QUJDRA=", "the server's challenge is not base64"),
    ],
)
def test_a_bad_challenge_fails_the_login_cleanly(challenge: str, reason: str) -> None:
    text = FORMATS["pem-ecparam"]
    session = _session(key=Secret(text))
    session.start(0.0)
    session.handle(parse("AUTHENTICATE +"), 1.0)
    assert session.handle(parse(f"AUTHENTICATE {challenge}"), 2.0) == ["AUTHENTICATE *"]
    assert session.done and not session.success
    assert session.reason.startswith(reason), session.reason
    assert_hides(session.reason + repr(session), text)


def test_a_challenge_in_400_byte_chunks_is_reassembled_and_refused_for_its_size() -> None:
    """A server may split a payload; ours refuses the 600 bytes, after reading all."""
    session = _session()
    session.start(0.0)
    session.handle(parse("AUTHENTICATE +"), 1.0)
    encoded = b64(b"c" * 600)  # 800 base64 bytes: two full chunks, then "+"
    assert session.handle(parse(f"AUTHENTICATE {encoded[:400]}"), 2.0) == []
    assert session.handle(parse(f"AUTHENTICATE {encoded[400:]}"), 2.0) == []
    assert session.handle(parse("AUTHENTICATE +"), 2.0) == ["AUTHENTICATE *"]
    assert session.reason == "the server's challenge is 600 bytes, not the 32 of " + ECDSA


def test_not_tried_when_the_server_does_not_offer_it() -> None:
    session = SaslSession(
        SaslConfig(
            username="u",
            password=Secret("pw"),
            key=Secret(FORMATS["pem-sec1"]),
            mechanisms=(ECDSA, "PLAIN"),
        ),
        ["PLAIN", "EXTERNAL"],
    )
    assert session.start(0.0) == ["AUTHENTICATE PLAIN"]


def test_the_library_missing_at_login_is_a_reason_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bot whose ``cryptography`` went away after its config was loaded (an upgrade
    in place): the login fails with what to install."""
    for name in list(sys.modules):
        if name == "cryptography" or name.startswith("cryptography."):
            monkeypatch.setitem(sys.modules, name, None)
    assert missing_library() == (
        "ECDSA-NIST256P-CHALLENGE needs the 'cryptography' package: pip install 'logbot[ecdsa]'"
    )
    session = _session()
    session.start(0.0)
    session.handle(parse("AUTHENTICATE +"), 1.0)
    assert session.handle(parse(f"AUTHENTICATE {b64(bytes(32))}"), 2.0) == ["AUTHENTICATE *"]
    assert session.reason == missing_library()


def test_the_hash_is_not_applied_twice() -> None:
    """The signature is over the challenge as a digest: cryptography's plain
    ``ECDSA(SHA256())`` would hash it first, and older Atheme refuses that."""
    signature = sign_challenge(FORMATS["pem-sec1"], ECDSATOOL_CHALLENGE)
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(signature, ECDSATOOL_CHALLENGE, ec.ECDSA(SHA256()))
