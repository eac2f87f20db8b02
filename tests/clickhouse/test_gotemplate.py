"""The Go template renderer: exactly the exporter's constructs, a loud error for anything else."""

from __future__ import annotations

import pytest

from otel_llm_analysis.clickhouse._gotemplate import TemplateError, execute, go_quote, sprintf


def test_sprintf_substitutes_s_and_q_in_order() -> None:
    assert sprintf('CREATE TABLE %q.%q %s (x) ENGINE = %s 100%%', ["db", "t", "", "MergeTree()"]) == \
        'CREATE TABLE "db"."t"  (x) ENGINE = MergeTree() 100%'


@pytest.mark.parametrize(("template", "args", "message"), [
    ("%s %s", ["a"], "more verbs"),
    ("%s", ["a", "b"], "fewer verbs"),
    ("%d", ["1"], "unsupported Go fmt verb %d"),
])
def test_sprintf_refuses_what_the_exporter_would_not_render(template: str, args: list[str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        sprintf(template, args)


def test_go_quote_escapes_like_go_and_refuses_non_ascii() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(TemplateError):
        go_quote("dé")


def test_execute_fields_ident_and_if_else_with_trim_markers() -> None:
    template = "T {{ident .Name}} (\n  a,\n{{- if .Flag}}\n  x\n{{- else}}\n  y\n{{- end}}\n) {{.Engine}}"
    assert execute(template, {"Name": "t`1", "Flag": True, "Engine": "E"}) == "T `t\\`1` (\n  a,\n  x\n) E"
    assert execute(template, {"Name": "t", "Flag": False, "Engine": "E"}) == "T `t` (\n  a,\n  y\n) E"


@pytest.mark.parametrize(("template", "message"), [
    ("{{range .X}}{{end}}", "unsupported template action"),
    ("{{.Missing}}", "unknown template field"),
    ("{{if .X}}open", "unterminated"),
    ("{{printf \"%s\" .X}}", "unsupported template action"),
])
def test_execute_refuses_unknown_constructs(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        execute(template, {"X": True})
