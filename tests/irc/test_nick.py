from __future__ import annotations

from logbot.irc.nick import NickChooser, append_underscore


def test_alternates_then_alter_then_give_up() -> None:
    chooser = NickChooser("bot", ["bot", "bot2"], max_attempts=3)
    assert chooser.after_refusal("bot") == "bot2"  # the wanted nick is not an alternate
    assert chooser.after_refusal("bot2") == "bot2_"
    assert chooser.after_refusal("bot2_") == "bot2__"
    assert chooser.after_refusal("bot2__") is None


def test_default_alter() -> None:
    assert append_underscore("x") == "x_"


def test_retry_schedule() -> None:
    chooser = NickChooser("bot", retry_interval=100.0)
    chooser.registered(current_is_wanted=False, now=0.0)
    assert not chooser.retry_due(99.0)
    assert chooser.retry_due(100.0)
    assert chooser.next_retry == 200.0
    chooser.registered(current_is_wanted=True, now=150.0)
    assert chooser.next_retry is None and not chooser.retry_due(1e9)
    never = NickChooser("bot", retry_interval=None)
    never.registered(current_is_wanted=False, now=0.0)
    assert not never.retry_due(1e9)
