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

__all__ = ["DEFAULT_CASEMAPPING", "MAPPINGS", "FoldCache", "casefold", "upper_ascii"]

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


class FoldCache(dict[str, str]):
    """``cache[name]`` is ``name`` folded with one mapping's table, remembered.

    ``str.translate`` with a dict table looks every character up in the dict
    (about 0.2 us for a nick); a channel's nicks repeat on every line, so a
    hit here (a plain dict lookup, done in C) is ten times cheaper.  Bounded:
    the cache is emptied when it reaches ``limit`` names.
    """

    def __init__(self, table: dict[int, int], limit: int = 4096) -> None:
        super().__init__()
        self.table = table
        self.limit = limit

    def __missing__(self, name: str) -> str:
        folded = name.translate(self.table)
        if len(self) >= self.limit:
            self.clear()
        self[name] = folded
        return folded


_ASCII_UPPER = str.maketrans(_LOWER, _UPPER)


def upper_ascii(text: str) -> str:
    """``text`` with a-z upper-cased and nothing else changed (commands)."""
    return text.upper() if text.isascii() else text.translate(_ASCII_UPPER)
