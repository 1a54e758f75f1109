"""IRC case mapping: which nicks and channel names are "the same".

Servers announce the mapping in ISUPPORT ``CASEMAPPING``; until they do, the
RFC 1459 default applies.  Measured: ngircd and Ergo say ``ascii``, InspIRCd
says ``rfc1459`` (see shared/ircd/README.md).

* ``ascii``: A-Z -> a-z.
* ``rfc1459``: also ``[]\\~`` -> ``{}|^`` (Scandinavian letters of the 1980s).
* ``rfc1459-strict``: as rfc1459 but without ``~`` -> ``^``.

An unknown mapping (``rfc7613``, a vendor value) folds as ``rfc1459``: it folds
more than ``ascii``, so at worst two rare distinct names look the same, which
is safer for a logger than losing track of a renamed user.
"""

from __future__ import annotations

__all__ = ["DEFAULT_CASEMAPPING", "MAPPINGS", "casefold"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"

MAPPINGS: dict[str, dict[int, int]] = {
    "ascii": str.maketrans(_UPPER, _LOWER),
    "rfc1459": str.maketrans(_UPPER + "[]\\~", _LOWER + "{}|^"),
    "rfc1459-strict": str.maketrans(_UPPER + "[]\\", _LOWER + "{}|"),
}
DEFAULT_CASEMAPPING = "rfc1459"


def casefold(name: str, mapping: str = DEFAULT_CASEMAPPING) -> str:
    """Return the canonical lower-case form of ``name`` under ``mapping``."""
    table = MAPPINGS.get(mapping.lower(), MAPPINGS[DEFAULT_CASEMAPPING])
    return name.translate(table)
