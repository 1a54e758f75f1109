"""How a store's values are kept: each key as its piece of the file, JSON in ASCII.

``logbot.plugins.store`` keeps every key as the bytes ``,"key":value`` that it will
have in the file, so that writing the file is a join and a value that cannot be JSON
fails in ``set()``, in the plugin that stored it.  These are the functions that make
and read those pieces, made once at import (the C encoder behind ``json``).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["encode", "encode_key", "file_size", "piece", "value"]

# ASCII only: any str (lone surrogates included) survives the trip through the file.
_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
# json's private ``c_make_encoder`` (None without the C accelerator), which typeshed does
# not declare.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
#: The C encoder behind ``_ENCODER``, made once: ``JSONEncoder.encode`` builds one per
#: call, which was most of the cost of a ``set()`` (``seen`` sets one per channel line).
#: No circular check: a cycle ends in RecursionError, turned into ValueError.
_C_ENCODER = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )
)


def encode_key(key: str) -> str:
    return json.encoder.encode_basestring_ascii(key)


def encode(value: Any) -> str:
    """``_ENCODER.encode(value)``, faster."""
    if type(value) is str:
        return json.encoder.encode_basestring_ascii(value)
    if _C_ENCODER is None or type(value) not in (dict, list):
        return _ENCODER.encode(value)
    try:
        return "".join(_C_ENCODER(value, 0))
    except RecursionError:
        raise ValueError("a value that contains itself cannot be stored") from None


def piece(key: str, text: str) -> bytes:
    """The key's piece of the file: ``,"key":value`` (ASCII)."""
    return ("," + encode_key(key) + ":" + text).encode("ascii")


def value(key: str, data: bytes) -> Any:
    """The value of a key's piece (a fresh copy: what ``get()`` returns)."""
    return json.loads(data[len(encode_key(key)) + 2 :])


def file_size(pieces: int) -> int:
    """``{``, the pieces less the first one's comma, ``}\\n``: 3 bytes when empty."""
    return 3 + max(0, pieces - 1)
