"""The web view's stylesheet and script, served from ``/static/`` under fixed names.

Why Python strings and not files: nothing from a URL is ever a file path (the only
assets are the entries of :data:`ASSETS`), they ship with the code without package
data, and the Content-Security-Policy (``style-src 'self'; script-src 'self'``) needs
them as files of our own origin rather than inline.  The stylesheet is one column that
wraps (a phone never scrolls sideways; a long word breaks anywhere), with the time,
nick and text side by side from a tablet's width up; the mIRC colour classes are made
from :data:`logbot.archive.web.mirc.PALETTE`.  The script only improves a page: it
follows a live day page (polling ``data-follow`` every ``data-interval`` seconds and
appending the lines it gets); without it, every page works and a live one offers a
"follow" link that refreshes itself.
"""

from __future__ import annotations

from logbot.archive.web.mirc import NICK_COLOURS, PALETTE

__all__ = ["ASSETS", "SCRIPT", "STYLE"]

# One hue per nick class, readable on the light and the dark background alike.
_NICK_HUES = (
    "#b5172b", "#1f6f43", "#1d4ed8", "#a34400", "#7c2d9c", "#0f766e", "#9d174d", "#4d7c0f",
    "#6d28d9", "#b45309", "#0e7490", "#be185d", "#15803d", "#c2410c", "#4338ca", "#a16207",
)  # fmt: skip
assert len(_NICK_HUES) == NICK_COLOURS

_BASE = """\
:root { --fg: #1b1b1b; --bg: #fdfdfc; --muted: #6b6b6b; --line: #e6e4df;
  --link: #0b57d0; --hl: #fff3b0; --hl-edge: #e0a800; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e6; --bg: #161616; --muted: #9a9a9a; --line: #2e2e2e;
    --link: #8ab4f8; --hl: #4a3f00; --hl-edge: #e0a800; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--link); }
header.top { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center;
  padding: .5em 1em; border-bottom: 1px solid var(--line); }
header.top .site { font-weight: 600; text-decoration: none; color: var(--fg); }
main { max-width: 70em; margin: 0 auto; padding: .5em 1em 3em; }
h1 { font-size: 1.35em; margin: .4em 0; overflow-wrap: anywhere; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; overflow-wrap: anywhere; }
h1 small, h2 small { color: var(--muted); font-weight: normal; }
.crumbs { color: var(--muted); font-size: .9em; overflow-wrap: anywhere; }
form.search { display: flex; flex-wrap: wrap; gap: .4em; align-items: end; }
form.search label { display: flex; flex-direction: column; font-size: .8em;
  color: var(--muted); }
form.search input, form.search select, form.search button { font: inherit;
  font-size: 1rem; padding: .3em .4em; max-width: 100%; }
form.search input[name=q] { min-width: 12em; }
table { border-collapse: collapse; }
table.chans { width: 100%; }
table.chans th, table.chans td { text-align: left; padding: .25em .5em .25em 0;
  border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.chans td.n { text-align: right; font-variant-numeric: tabular-nums; }
.months { display: flex; flex-wrap: wrap; gap: 1em 2em; }
table.cal th, table.cal td { width: 2.6em; height: 2.4em; text-align: center;
  padding: 0; font-size: .9em; }
table.cal th { color: var(--muted); font-weight: normal; }
table.cal td.off { color: var(--muted); opacity: .5; }
table.cal td a { display: block; text-decoration: none; border-radius: .3em;
  background: var(--line); line-height: 1.1; padding: .2em 0; }
table.cal td a small { display: block; font-size: .7em; color: var(--muted); }
nav.days { display: flex; flex-wrap: wrap; gap: .5em 1.5em; margin: .6em 0; }
.note { color: var(--muted); }
.log { font-size: .95em; }
.l { padding: .1em .3em; border-left: 3px solid transparent; overflow-wrap: anywhere;
  word-break: normal; scroll-margin-top: 30vh; }
.l:target { background: var(--hl); border-left-color: var(--hl-edge); }
.l .t { color: var(--muted); text-decoration: none; font-variant-numeric: tabular-nums;
  margin-right: .5em; }
.l .t:hover { text-decoration: underline; }
.l .nk { font-weight: 600; margin-right: .4em; }
.l .tx { white-space: pre-wrap; }
.l.ev, .l.sys { color: var(--muted); font-size: .92em; }
.l.ev .nk, .l.sys .nk { font-weight: normal; }
.l.sys { font-style: italic; }
.l.ntc .tx { font-style: italic; }
.l .rp { color: var(--muted); font-size: .8em; margin-left: .3em; }
@media (min-width: 48em) {
  .l { display: grid; grid-template-columns: 5.2em 11em minmax(0, 1fr); }
  .l .t, .l .nk { margin-right: 0; }
  .l .nk { text-align: right; padding-right: .6em; overflow: hidden;
    text-overflow: ellipsis; white-space: nowrap; }
}
ol.hits { list-style: none; padding: 0; margin: 0; }
ol.hits li { padding: .4em 0; border-bottom: 1px solid var(--line); }
ol.hits .where { font-size: .85em; overflow-wrap: anywhere; }
.js .nojs { display: none; }
.b { font-weight: 700; } .i { font-style: italic; } .u { text-decoration: underline; }
.s { text-decoration: line-through; } .u.s { text-decoration: underline line-through; }
.m { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.rf { color: var(--bg); } .rk { background: var(--fg); }
"""


def _generated() -> str:
    """The nick and mIRC colour classes."""
    rules = [f".n{i} {{ color: {hue}; }}" for i, hue in enumerate(_NICK_HUES)]
    rules += [f".f{i} {{ color: #{rgb}; }}" for i, rgb in enumerate(PALETTE)]
    rules += [f".k{i} {{ background: #{rgb}; }}" for i, rgb in enumerate(PALETTE)]
    return "\n".join(rules) + "\n"


STYLE = _BASE + _generated()

SCRIPT = """\
"use strict";
document.documentElement.classList.add("js");
(function () {
  var log = document.getElementById("log");
  if (!log || !log.dataset.follow) { return; }
  var every = Math.max(0.1, parseFloat(log.dataset.interval) || 5) * 1000;
  var last = parseInt(log.dataset.last, 10) || 0;
  var busy = false;
  var timer = null;
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 60;
  }
  function ended(next) {
    window.clearInterval(timer);
    var note = document.getElementById("live");
    if (!note) { return; }
    note.textContent = "This day is over: ";
    var link = document.createElement("a");
    link.href = next;
    link.textContent = "the next day";
    note.appendChild(link);
  }
  function poll() {
    if (busy) { return; }
    busy = true;
    var again = false;
    fetch(log.dataset.follow + last, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data.html) {
          var stick = atBottom();
          log.insertAdjacentHTML("beforeend", data.html);
          if (stick) { window.scrollTo(0, document.body.scrollHeight); }
        }
        if (typeof data.last === "number") { last = data.last; }
        if (data.more) { again = true; } else if (data.next) { ended(data.next); }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () {
        busy = false;
        if (again) { poll(); }  /* the rest of a long batch, at once */
      });
  }
  timer = window.setInterval(poll, every);
})();
"""

#: ``/static/<name>`` -> (content type, body): the only files the web view serves.
ASSETS: dict[str, tuple[str, bytes]] = {
    "style.css": ("text/css; charset=utf-8", STYLE.encode()),
    "app.js": ("text/javascript; charset=utf-8", SCRIPT.encode()),
}
