"""Find the ``#`` that cut a flow list short, for a YAML error that would not say so.

``channels: [#logbot, #dev]`` reads as ``channels: [`` followed by a comment, so YAML
complains about the end of the file ("expected the node content, but found '<stream
end>'"), lines below the mistake.  The block form (``- #logbot``) parses and the
loader then gives a quoting hint at the right line; this module lets the YAML error
path give the same hint, pointing at the line of the ``#``.

Only tokens are used (``yaml.scan``), never values: the text may hold secrets, and
the scanner knows what is quoted, which a search of the raw lines would not.
"""

from __future__ import annotations

import yaml

from logbot.config.networks_section import _QUOTE_HINT

__all__ = ["QUOTE_HINT", "flow_comment_line", "flow_comment_problem"]

#: The hint the block form gets (``networks[0].channels[0]: expected a channel name``).
QUOTE_HINT = _QUOTE_HINT


def flow_comment_problem(text: str, error: yaml.MarkedYAMLError, source: str) -> str | None:
    """The loader's message for ``error`` when a comment inside a flow list caused it
    (with the quoting hint and the line of the ``#``), else None."""
    if "flow" not in (error.context or ""):
        return None
    mark = error.problem_mark or error.context_mark
    line = flow_comment_line(text, None if mark is None else mark.line + 1)
    if line is None:
        return None
    return f"bad YAML: a comment cuts this [...] list short; {QUOTE_HINT} ({source} line {line})"


def flow_comment_line(text: str, before: int | None = None) -> int | None:
    """The line (from 1) of the last ``#`` that follows a ``[`` or a ``,`` of a flow
    sequence on the same line, where YAML saw a comment, at or before the line
    ``before`` (from 1; None: anywhere); None if there is none.

    A ``#`` on a line of its own inside a multi-line list is left alone: there it is
    more likely a real comment."""
    found = None
    open_flows: list[type[yaml.Token]] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken):
                open_flows.append(type(token))
            elif isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken):
                if open_flows:
                    open_flows.pop()
                continue
            elif not isinstance(token, yaml.FlowEntryToken):
                continue
            if open_flows[-1:] != [yaml.FlowSequenceStartToken]:
                continue
            line = _comment_after(text, token.end_mark.index)
            if line is not None and (before is None or line <= before):
                found = line
    except yaml.YAMLError:  # the scanner stops at the mistake; what came before counts
        pass
    return found


def _comment_after(text: str, index: int) -> int | None:
    """The line of a ``#`` that comes after ``index`` with only spaces between."""
    while index < len(text) and text[index] == " ":  # PyYAML skips spaces, not tabs
        index += 1
    if index < len(text) and text[index] == "#":
        return text.count("\n", 0, index) + 1
    return None
