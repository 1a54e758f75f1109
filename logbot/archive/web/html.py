"""The page skeleton every web page shares, and the headers every response carries.

Why one skeleton: each page is the same document around different content, and the
rules that keep a hostile line harmless hold for all of them at once: the stylesheet
and the script are files of our own (``/static/``), never inline, so the
Content-Security-Policy (:data:`CSP`) can forbid every inline script and style, and a
``<script>`` that escaped our escaping would still not run.  A viewport meta makes a
phone lay the page out at its own width.  Every string given to :func:`page` is
escaped here but ``body`` (and ``head``), which the pages build from escaped parts.

A page of the static export (``static=True``, :mod:`.export`) is the same document
without the script and the search form (no server answers either), with its policy
(:data:`STATIC_CSP`) in a ``<meta>``, first in the head: a plain file server, or a file
opened from disk, sends no headers.
"""

from __future__ import annotations

from logbot.archive.web.mirc import esc

__all__ = ["CSP", "SECURITY_HEADERS", "STATIC_CSP", "page"]

#: The Content-Security-Policy of every response: nothing but our own files, no inline
#: code or style, no plugins, no framing, forms only to ourselves.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: The policy of an exported page, in its ``<meta>``: no script at all (an exported page
#: has none), our stylesheet only, no form.  ``frame-ancestors`` is left out: a browser
#: ignores it in a ``<meta>``, and says so as an error in the console.
STATIC_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'"

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
{policy}<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="stylesheet" href="/static/style.css">
{script}{head}</head>
<body>
<header class="top"><a class="site" href="/">{site}</a>
{search}</header>
<main>
{body}
</main>
</body>
</html>
"""


_SCRIPT = '<script src="/static/app.js" defer></script>\n'
_SEARCH = (
    '<form class="search" action="/search" method="get" role="search">'
    '<input type="search" name="q" placeholder="Search" aria-label="Search" maxlength="{0}">'
    '<button type="submit">Search</button></form>'
)
_POLICY = f'<meta http-equiv="Content-Security-Policy" content="{STATIC_CSP}">\n'


def page(
    site: str,
    title: str,
    body: str,
    *,
    head: str = "",
    max_query: int = 200,
    static: bool = False,
) -> str:
    """A whole HTML document: ``site`` (the config's title) and ``title`` are escaped
    here; ``body`` and ``head`` are HTML already made safe.  ``static``: a page of the
    static export (no script, no search, the policy in a ``<meta>``)."""
    full_title = f"{title} · {site}" if title else site
    return _SKELETON.format(
        title=esc(full_title),
        site=esc(site),
        head=head,
        body=body,
        policy=_POLICY if static else "",
        script="" if static else _SCRIPT,
        search="" if static else _SEARCH.format(max_query),
    )
