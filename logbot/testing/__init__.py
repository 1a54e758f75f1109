"""Test and demo helpers that run on logbot's own reactor.

:mod:`logbot.testing.ircd` is a small IRC server for tests and demos, **not** a
production ircd: no flood limits, no services, no persistence, it trusts everyone
and listens on 127.0.0.1 by default.  ``logbot demo`` runs the real bot against it,
and tests use it to run the bot over real TCP in milliseconds::

    from logbot.testing.ircd import TestIRCServer

    server = TestIRCServer(reactor)
    port = server.start()
    alice = server.add_user("alice")
    alice.join("#demo")
    alice.say("#demo", "hello")

Modules: ``ircd`` (the server and its TCP connections), ``ircd_commands``
(registration, messages, queries), ``ircd_channels`` (channel commands),
``ircd_history`` (``msgid`` and ``CHATHISTORY``, with ``history_size=N``) and
``ircd_sasl`` (SASL ECDSA-NIST256P-CHALLENGE, with ``sasl_keys``): the command
handlers; ``ircd_users`` (users, simulated users, channels); ``ircd_wire`` (how a
line is written).  Like the rest of logbot it imports only the reactor and the IRC
core.
"""
