"""Self-signed server certificates for the pinning tests, made with ``cryptography``
(a test dependency): any name, any validity (an expired one too), any key type."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from logbot.config.pins import CERTIFICATE, PUBLIC_KEY, CertPin


@dataclass(frozen=True)
class SelfSigned:
    der: bytes  # the certificate
    spki: bytes  # its SubjectPublicKeyInfo, as cryptography writes it
    cert_pem: bytes
    key_pem: bytes

    @property
    def pin(self) -> CertPin:
        return CertPin(CERTIFICATE, hashlib.sha256(self.der).digest())

    @property
    def key_pin(self) -> CertPin:
        return CertPin(PUBLIC_KEY, hashlib.sha256(self.spki).digest())

    def write(self, folder: Path, name: str = "server") -> tuple[Path, Path]:
        """The certificate and its key as PEM files in ``folder``."""
        cert, key = folder / f"{name}.pem", folder / f"{name}.key"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        key.chmod(0o600)
        return cert, key


def _key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def self_signed(
    name: str = "irc.other.example", *, expired: bool = False, key: str = "ec"
) -> SelfSigned:
    """A self-signed certificate for ``name`` (valid now, or ``expired`` a month ago)."""
    private = _key(key)
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=60), now - timedelta(days=30))
        if expired
        else (
            now - timedelta(days=1),
            now + timedelta(days=30),
        )
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    )
    algorithm = None if key == "ed25519" else hashes.SHA256()
    cert = builder.sign(private, algorithm)
    return SelfSigned(
        der=cert.public_bytes(serialization.Encoding.DER),
        spki=private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
