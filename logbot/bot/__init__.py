"""The logging bot service: config, channel logs, connections, the service.

Imports flow one way: ``logbot.cli`` -> ``logbot.bot`` -> ``logbot.irc`` ->
``logbot.reactor``.  Nothing here uses the global default reactor: the service is
handed its reactor (and so its clock) by the command line.
"""
