"""P-256 keys in every format logbot reads, and the checks the tests make with them.

The keys are made by ``cryptography`` (the same library the bot signs with, but every
check here verifies with the *public* key, which the bot never sees); the formats are
written out the way the tools write them: ``openssl ecparam -genkey`` puts an
``EC PARAMETERS`` block before the key, ``ecdsatool`` writes SEC 1 PEM, PKCS #8 is what
``openssl genpkey`` writes, and the base64 forms are the PEM bodies and the raw number.

``ECDSATOOL_*`` are the example of ecdsatool's README (github.com/kaniini/ecdsatool):
its ``keyinfo`` output (the private number and the public point), the public key that
``ecdsatool pubkey`` prints for it, and the signature that ``ecdsatool sign`` printed
for the challenge of 32 ``A`` bytes (Atheme's DEBUG_STATIC_CHALLENGE_VECTOR).  A
signature made by the reference client, not by us: it ties our verification, and so
our signing, to what the services check.
"""

from __future__ import annotations

import base64
import textwrap

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

ECDSATOOL_PRIVATE = bytes.fromhex(
    "920c69ac486bef7e96690a944bdf973400a8968eda05ec205f33362608b151e5"
)
ECDSATOOL_PUBLIC = "A9T8WQPtyWlP0sEFQaugzQjWHH+hmoRIfFl7yaADaagb"
ECDSATOOL_CHALLENGE = b"A" * 32
ECDSATOOL_SIGNATURE = (
    "MEUCICNBUzxaMXcqyec7q0aZcHMa0HY9NELX869/8tjd58cFAiEA"
    "75FzpxmPOcotr0vc8ncEM79DoQRf/bOSoi1yK5X67J8="
)

# The DER of the named curve prime256v1, as ``openssl ecparam -name prime256v1`` prints it.
_EC_PARAMETERS = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _body(pem: bytes) -> str:
    """The base64 of a PEM block, on one line."""
    return "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))


def formats(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The text of a key file, for each format logbot reads."""
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    number = key.private_numbers().private_value.to_bytes(32, "big")
    return {
        "pem-sec1": sec1.decode(),
        "pem-ecparam": _EC_PARAMETERS + sec1.decode(),
        "pem-pkcs8": pkcs8.decode(),
        "base64-der-sec1": _body(sec1),
        "base64-der-pkcs8-wrapped": "\n".join(textwrap.wrap(_body(pkcs8), 64)) + "\n",
        "base64-raw": base64.b64encode(number).decode(),
    }


def public_base64(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as the services keep it: the compressed point in base64."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return base64.b64encode(point).decode()


def verifies(public: str, challenge: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the ECDSA signature of the raw ``challenge`` (used as the
    digest, as Atheme checks) by the key whose public key is ``public`` (base64)."""
    point = base64.b64decode(public)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    try:
        key.verify(signature, challenge, ec.ECDSA(Prehashed(SHA256())))
    except InvalidSignature:
        return False
    return True


def secret_pieces(text: str) -> list[str]:
    """Pieces of a key's text that must never be shown: each line of its base64 (the
    armour lines are not secret), and 16-character runs of it."""
    body = "".join(
        line for line in text.splitlines() if line and not line.startswith(("-----", "Proc"))
    )
    lines = [line for line in text.splitlines() if line and not line.startswith("-----")]
    return lines + [body[i : i + 16] for i in range(0, max(len(body) - 16, 1), 16)]
