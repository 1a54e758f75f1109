"""IRCClient against real IRC servers (the fixtures of tests/ircd)."""
