"""What ties one network and the service together: a network's connection and
reconnects (``network``, ``ircbot``, ``tls_context``), what the service knows about
each connection (``stats``), and the service that owns the networks, the log writer,
the plugins and the health listener (``service``).

Imports flow one way: ``logbot.cli`` -> ``logbot.bot`` -> (``logbot.plugins``,
``logbot.health``, ``logbot.logs``, ``logbot.config``) -> ``logbot.irc`` ->
``logbot.reactor``.  Nothing here uses the global default reactor: the service is
handed its reactor (and so its clock) by the command line.
"""
