from __future__ import annotations

import pytest

from logbot.irc.registry import HandlerTable


def test_register_and_lookup() -> None:
    table: HandlerTable = HandlerTable()

    @table.on("JOIN", "PART")
    def handler() -> str:
        return "h"

    assert table.get("JOIN") is handler and table.get("PART") is handler
    assert "JOIN" in table and table.get("KICK") is None


def test_duplicate_is_an_error() -> None:
    table: HandlerTable = HandlerTable()
    table.on("JOIN")(lambda: None)
    with pytest.raises(ValueError):
        table.on("JOIN")(lambda: None)
