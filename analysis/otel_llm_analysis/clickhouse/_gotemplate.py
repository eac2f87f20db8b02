"""Render the two Go template dialects the ClickHouse exporter's DDL files use.

The exporter keeps its ``CREATE TABLE`` statements as SQL files rendered in Go:
most with ``fmt.Sprintf`` (``%s`` and ``%q`` verbs, positional), the logs table
with ``text/template`` (``{{ident .Database}}``, ``{{.Engine}}``,
``{{- if .HasFullTextSearch}} … {{- else}} … {{- end}}``). This module renders
exactly those constructs and refuses anything else with :class:`TemplateError`,
so an exporter release that changes its templates fails our tests loudly instead
of producing a schema that silently differs from the exporter's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_FMT_VERB = re.compile(r"%(.)")
_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_FIELD = re.compile(r"\.([A-Za-z_]\w*)")


class TemplateError(ValueError):
    """A template uses a construct (or an argument count) this renderer does not know."""


def go_quote(text: str) -> str:
    """Go's ``%q`` for a string: double quotes with backslash escapes (printable ASCII names)."""
    if not text.isascii() or not text.isprintable():
        raise TemplateError(f"cannot %q-quote {text!r} the way Go would: use a plain ASCII name")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def go_ident(text: str) -> str:
    """The exporter's ``ident`` template function: a backquoted ClickHouse identifier."""
    return "`" + text.replace("`", "\\`") + "`"


def sprintf(template: str, args: Sequence[str]) -> str:
    """``fmt.Sprintf(template, args...)`` for the ``%s``, ``%q`` and ``%%`` verbs only."""
    remaining = list(args)

    def verb(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "%":
            return "%"
        if kind not in "sq":
            raise TemplateError(f"unsupported Go fmt verb %{kind}")
        if not remaining:
            raise TemplateError("the template has more verbs than the exporter passes arguments")
        value = remaining.pop(0)
        return go_quote(value) if kind == "q" else value

    rendered = _FMT_VERB.sub(verb, template)
    if remaining:
        raise TemplateError(f"the template has fewer verbs than arguments ({len(remaining)} unused)")
    return rendered


def execute(template: str, data: Mapping[str, object]) -> str:
    """Go ``text/template`` for ``{{.F}}``, ``{{ident .F}}`` and ``if``/``else``/``end`` on fields.

    Trim markers (``{{-`` and ``-}}``) remove the whitespace beside the action, as in Go.
    """
    out: list[str] = []
    # Each frame: (this branch renders, some branch of this `if` already rendered).
    stack: list[tuple[bool, bool]] = []
    pos = 0
    trim_next = False
    for match in _ACTION.finditer(template):
        text = template[pos:match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if all(active for active, _ in stack):
            out.append(text)
        action = match.group(2)
        trim_next = bool(match.group(3))
        pos = match.end()
        words = action.split()
        if words[:1] == ["if"] and len(words) == 2:
            taken = bool(_field(words[1], data))
            stack.append((taken, taken))
        elif words == ["else"] and stack:
            _, done = stack.pop()
            stack.append((not done, True))
        elif words == ["end"] and stack:
            stack.pop()
        elif len(words) == 1 and words[0].startswith("."):
            if all(active for active, _ in stack):
                out.append(str(_field(words[0], data)))
        elif len(words) == 2 and words[0] == "ident":
            if all(active for active, _ in stack):
                out.append(go_ident(str(_field(words[1], data))))
        else:
            raise TemplateError(f"unsupported template action {{{{{action}}}}}")
    if stack:
        raise TemplateError("unterminated {{if}}")
    tail = template[pos:]
    out.append(tail.lstrip() if trim_next else tail)
    return "".join(out)


def _field(reference: str, data: Mapping[str, object]) -> object:
    match = _FIELD.fullmatch(reference)
    if not match or match.group(1) not in data:
        raise TemplateError(f"unknown template field {reference}")
    return data[match.group(1)]
