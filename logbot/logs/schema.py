"""The JSON Schema (draft 2020-12) of the ``jsonl`` log lines, for the programs that
read them: ``logbot schema`` prints it.

It is a JSON file shipped in the package (``jsonl.schema.json``, package data in
``pyproject.toml``), not built from code at run time, so that what is published is
the file itself, and a change to it shows in review as a change to the format.  The
tests hold it to :func:`logbot.logs.formats.format_jsonl`: every record type, with and
without each optional key, validates, every key written is described, in the order
written, and its enums are :data:`~logbot.logs.record.TYPES` and
:data:`~logbot.logs.record.REJECTED`.

The version is in ``$id`` (``urn:logbot:jsonl:1``).  Lines do not carry it: a dozen
bytes on every line for a number that changes, if ever, with a release.  Version 1 grows
without a new number (new optional keys, tag names, replay sources: readers ignore what
they do not know, and the schema allows unknown keys); a change that can break a reader
makes version 2, whose lines will say so in a ``schema`` key, so that a line without
one is version 1 (README, "The jsonl format").
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_FILE", "SCHEMA_ID", "SCHEMA_VERSION", "load_schema", "schema_text"]

#: The schema's file name, beside this module.
SCHEMA_FILE = "jsonl.schema.json"
#: Raised only for a change a reader could trip on (see the module docstring).
SCHEMA_VERSION = 1
#: The schema's ``$id``.
SCHEMA_ID = f"urn:logbot:jsonl:{SCHEMA_VERSION}"


def schema_text() -> str:
    """The schema as shipped (JSON, ending in a newline)."""
    return resources.files("logbot.logs").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The schema, parsed."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema
