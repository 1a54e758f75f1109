"""A small reader of DER (the binary form of X.509 certificates), for what the bot and
``logbot check`` need of a server's certificate without a dependency: the standard
library has no X.509 parser, and ``ssl`` describes a certificate only once it is
verified, while its DER bytes are always there.

Only definite lengths of at most four bytes are read (a certificate is far smaller);
anything else, or a length that runs past its container, raises ``ValueError``: the
bytes come from a server not trusted yet.
"""

from __future__ import annotations

__all__ = ["MAX_LENGTH_BYTES", "SEQUENCE", "children", "element", "subject_public_key_info"]

SEQUENCE = 0x30
_VERSION = 0xA0  # [0] EXPLICIT: the version, absent in a version 1 certificate
#: Bytes a long-form length may have (four: up to 4 GiB, far past any certificate).
MAX_LENGTH_BYTES = 4

#: (tag, start of the value, end of the value)
Element = tuple[int, int, int]


def element(data: bytes, pos: int, end: int) -> Element:
    """The element whose tag is at ``data[pos]``, within ``data[:end]``."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= MAX_LENGTH_BYTES or pos + count > end:
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


def children(data: bytes, start: int, end: int) -> list[Element]:
    """The elements of the value ``data[start:end]``, in order."""
    out = []
    while start < end:
        found = element(data, start, end)
        out.append(found)
        start = found[2]
    return out


def subject_public_key_info(certificate: bytes) -> bytes:
    """The DER of a certificate's SubjectPublicKeyInfo (its tag and length too: what an
    ``spki-sha256`` pin is the hash of, as ``openssl x509 -pubkey | openssl pkey
    -pubin -outform der`` would give).  ``ValueError`` if it cannot be found."""
    tag, start, end = element(certificate, 0, len(certificate))
    if tag != SEQUENCE:
        raise ValueError("not a certificate")
    tag, start, end = element(certificate, start, end)  # tbsCertificate
    if tag != SEQUENCE:
        raise ValueError("no tbsCertificate")
    fields: list[tuple[int, int, int]] = []  # (tag, start of the tag, end)
    pos = start
    while pos < end:
        found = element(certificate, pos, end)
        fields.append((found[0], pos, found[2]))
        pos = found[2]
    if fields and fields[0][0] == _VERSION:
        fields = fields[1:]
    # serial, signature algorithm, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or fields[5][0] != SEQUENCE:
        raise ValueError("no subjectPublicKeyInfo")
    return certificate[fields[5][1] : fields[5][2]]
