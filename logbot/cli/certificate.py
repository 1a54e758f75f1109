"""What a server's TLS certificate says: subject, issuer, names, expiry, fingerprint.

``logbot check --connect`` shows these for every TLS server, and above all for one whose
certificate is *not* trusted: that is when the user must decide between giving its CA
(``ca_file``) and turning verification off, and they need to see whose certificate it
is.  Python's ``ssl`` describes a certificate only once it is verified
(``getpeercert()`` is empty otherwise); its DER bytes are always there, so this reads
the few fields it needs from them (with the small DER reader of :mod:`logbot.bot.der`,
which the bot's certificate pins use too: the standard library has no X.509 parser,
and the runtime depends on nothing else).

The fields come from a server we do not trust yet: every string is cleaned of control
characters before it reaches a terminal, and a malformed certificate raises
``ValueError`` (the caller then shows the fingerprint alone).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from logbot.bot.der import Element as _Element
from logbot.bot.der import children as _children
from logbot.bot.der import element as _element

__all__ = ["Certificate", "fingerprint", "read_certificate"]

_SEQUENCE, _SET = 0x30, 0x31
_NAME_KEYS = {  # attribute OIDs (their DER bytes) -> the usual short name
    bytes.fromhex("550403"): "CN",
    bytes.fromhex("55040a"): "O",
    bytes.fromhex("55040b"): "OU",
    bytes.fromhex("550406"): "C",
}
_SUBJECT_ALT_NAME = bytes.fromhex("551d11")
_STRINGS = {  # string tags -> codec
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x14: "latin-1",  # TeletexString (in practice)
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}


@dataclass(frozen=True)
class Certificate:
    subject: str  # "CN=irc.example.org, O=Example"
    issuer: str
    names: tuple[str, ...]  # subjectAltName: DNS names and IP addresses
    not_after: datetime  # UTC
    sha256: str  # "AB:CD:..." of the DER bytes

    def lines(self, now: datetime) -> list[str]:
        """What ``check --connect`` shows, one field a line."""
        if self.not_after <= now:
            left = "EXPIRED"
        else:
            days = (self.not_after - now).days
            left = f"in {days} day{'' if days == 1 else 's'}"
        return [
            f"subject  {self.subject}",
            f"issuer   {self.issuer}",
            f"names    {', '.join(self.names) or 'none'}",
            f"expires  {self.not_after:%Y-%m-%d %H:%M} UTC ({left})",
            f"SHA-256  {self.sha256}",
        ]


def fingerprint(der: bytes) -> str:
    """The SHA-256 of the DER certificate, as ``AB:CD:...`` (what browsers show)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def read_certificate(der: bytes) -> Certificate:
    """The fields of a DER X.509 certificate; ``ValueError`` if it cannot be read."""
    tag, start, end = _element(der, 0, len(der))
    if tag != _SEQUENCE:
        raise ValueError("not a certificate")
    tag, start, end = _element(der, start, end)  # tbsCertificate
    if tag != _SEQUENCE:
        raise ValueError("no tbsCertificate")
    fields = _children(der, start, end)
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 6:
        raise ValueError("too few fields")
    # serial, signature algorithm, issuer, validity, subject, key, then [1] [2] [3]
    issuer, validity, subject = fields[2], fields[3], fields[4]
    times = _children(der, validity[1], validity[2])
    if len(times) != 2:
        raise ValueError("bad validity")
    names: tuple[str, ...] = ()
    for tag, start, end in fields[6:]:
        if tag == 0xA3:  # [3] extensions
            names = _alt_names(der, start, end)
    return Certificate(
        subject=_name(der, subject),
        issuer=_name(der, issuer),
        names=names,
        not_after=_time(der, times[1]),
        sha256=fingerprint(der),
    )


def _clean(text: str) -> str:
    """No control characters (a terminal escape sequence) from an untrusted server."""
    return "".join("?" if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in text)


def _string(data: bytes, element: _Element) -> str:
    tag, start, end = element
    codec = _STRINGS.get(tag)
    if codec is None:
        raise ValueError(f"unexpected string type {tag:#x}")
    return _clean(data[start:end].decode(codec, "replace"))


def _name(data: bytes, element: _Element) -> str:
    tag, start, end = element
    if tag != _SEQUENCE:
        raise ValueError("bad name")
    parts = []
    for rdn in _children(data, start, end):
        if rdn[0] != _SET:
            raise ValueError("bad name")
        for pair in _children(data, rdn[1], rdn[2]):
            items = _children(data, pair[1], pair[2])
            if pair[0] != _SEQUENCE or len(items) != 2 or items[0][0] != 0x06:
                raise ValueError("bad name attribute")
            key = _NAME_KEYS.get(data[items[0][1] : items[0][2]])
            if key is not None:
                parts.append(f"{key}={_string(data, items[1])}")
    return ", ".join(parts) or "(no name)"


def _time(data: bytes, element: _Element) -> datetime:
    tag, start, end = element
    text = data[start:end].decode("ascii", "replace")
    if tag == 0x17 and len(text) == 13 and text.endswith("Z"):  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18 or len(text) != 15 or not text.endswith("Z"):  # GeneralizedTime
        raise ValueError(f"bad time {text!r}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def _alt_names(data: bytes, start: int, end: int) -> tuple[str, ...]:
    outer = _children(data, start, end)
    if len(outer) != 1 or outer[0][0] != _SEQUENCE:
        raise ValueError("bad extensions")
    for ext in _children(data, outer[0][1], outer[0][2]):
        items = _children(data, ext[1], ext[2])
        if len(items) < 2 or data[items[0][1] : items[0][2]] != _SUBJECT_ALT_NAME:
            continue
        tag, value_start, value_end = items[-1]  # the OCTET STRING (after "critical")
        if tag != 0x04:
            raise ValueError("bad extension")
        inner = _children(data, value_start, value_end)
        if len(inner) != 1 or inner[0][0] != _SEQUENCE:
            raise ValueError("bad subjectAltName")
        names = []
        for kind, name_start, name_end in _children(data, inner[0][1], inner[0][2]):
            raw = data[name_start:name_end]
            if kind == 0x82:  # dNSName
                names.append(_clean(raw.decode("ascii", "replace")))
            elif kind == 0x87 and len(raw) in (4, 16):  # iPAddress
                names.append(str(ipaddress.ip_address(raw)))
        return tuple(names)
    return ()
