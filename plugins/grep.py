"""``!grep <words>``: search the channel's own log, newest first.

Words, not a regular expression: anyone may type a pattern, and a regular
expression can be made to run for minutes.

Where the answer comes from, and so what a word means:

* When the bot keeps a search index (the config's ``index`` section enabled, or a
  ``web`` section) and its file exists, the index answers, over the channel's whole
  history.  A word then matches as the index matches it: a *whole* word (a run of
  letters and digits), ignoring case and accents (``cafe`` finds ``Café``); ``word*``
  is a prefix; anything typed with punctuation in it (``don't``, ``foo-bar``) is read
  as those words one after the other.  ``!grep ink`` does not find "thinking".
* Without an index, or when it fails, the log files of the last days are read, and a
  line matches when its text holds every word as a substring, ignoring case.
"""

from logbot.plugin import Context, command


@command("grep", help="finds lines said here holding every word, newest first", usage="<words>")
def grep(context: Context) -> str | list[str]:
    if context.logs is None:
        return f"{context.nick}: ask me in a channel"
    if not context.args:
        return f"{context.nick}: usage: {context.bot.prefix}grep <words>"
    most = int(context.config.get("max", 3))
    lines = context.logs.recent(most, words=context.args)
    if not lines:
        return f"{context.nick}: no line here holds {context.argtext!r}"
    return [line.line for line in lines]
