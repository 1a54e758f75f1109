"""The page skeleton every web page shares, and the headers every response carries.

Why one skeleton: each page is the same document around different content, and the
rules that keep a hostile line harmless hold for all of them at once: the stylesheet
and the script are files of our own (``/static/``), never inline, so the
Content-Security-Policy (:data:`CSP`) can forbid every inline script and style, and a
``<script>`` that escaped our escaping would still not run.  A viewport meta makes a
phone lay the page out at its own width.  Every string given to :func:`page` is
escaped here but ``body`` (and ``head``), which the pages build from escaped parts.
"""

from __future__ import annotations

from logbot.archive.web.mirc import esc

__all__ = ["CSP", "SECURITY_HEADERS", "page"]

#: The Content-Security-Policy of every response: nothing but our own files, no inline
#: code or style, no plugins, no framing, forms only to ourselves.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Headers on every answer, errors and ``401`` included.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)

_SKELETON = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
{head}</head>
<body>
<header class="top"><a class="site" href="/">{site}</a>
<form class="search" action="/search" method="get" role="search">\
<input type="search" name="q" placeholder="Search" aria-label="Search" maxlength="{max_q}">\
<button type="submit">Search</button></form></header>
<main>
{body}
</main>
</body>
</html>
"""


def page(site: str, title: str, body: str, *, head: str = "", max_query: int = 200) -> str:
    """A whole HTML document: ``site`` (the config's title) and ``title`` are escaped
    here; ``body`` and ``head`` are HTML already made safe."""
    full_title = f"{title} · {site}" if title else site
    return _SKELETON.format(
        title=esc(full_title), site=esc(site), head=head, body=body, max_q=max_query
    )
