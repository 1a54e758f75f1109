"""The channel logs: from IRC events to records (``events_to_records``, ``record``),
what is kept of them (``policy``), how a record reads as a line (``formats``), where
each line goes (``paths``, ``rotation``), and the writer that puts it there safely
(``writer``, ``logfile``, ``outage``, ``housekeeping``: compression and retention).

It knows the settings (:mod:`logbot.config.settings`) and IRC's events, never the
service or the network that feeds it: a record is written the same way from a live
connection, a test or a replay.
"""
