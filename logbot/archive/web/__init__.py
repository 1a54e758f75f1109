"""The archive's web view: networks, channels, a calendar, day pages, search, live days.

Served by ``logbot web`` on its own reactor (it needs only to read the logs, and its
index), or by anything that runs a :class:`~logbot.archive.web.server.WebServer` on its
reactor.  Why it is built as it is: whatever is shown comes from IRC, where anyone may
write anything, and from a URL, where anyone may ask anything, so every piece of text
is escaped where it is written into a page, nothing is shown that ``web.publish`` does
not name, no URL ever names a file, and every answer carries a strict
Content-Security-Policy (no inline script or style at all).  The parts:

- :mod:`.server`: the listener (the health listener's bounded HTTP code), ``serve()``;
- :mod:`.routes`: the URLs, the auth and publishing checks, the answers (``WebApp``);
- :mod:`.access`: who sees what (``Publisher``) and the credentials (``Guard``);
- :mod:`.urls`: strict decoding of paths and queries, quoting of links;
- :mod:`.search`: the search form to a query over the published channels;
- :mod:`.pages`, :mod:`.lines`, :mod:`.html`: the pages, a log line, the skeleton;
- :mod:`.mirc`: IRC formatting to classed spans, links, escaping;
- :mod:`.assets`: the stylesheet and the script (``/static/``);
- :mod:`.export`, :mod:`.export_files`: the same pages as static files
  (``logbot export-html``), written only into the output folder.
"""
