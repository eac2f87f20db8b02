"""README, Layout: every file and directory the tree names is where it says (indentation: two spaces a level)."""

from __future__ import annotations

import re

from tests.readme.test_examples import ROOT


def _named() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    tree = readme[readme.index("## Layout"):]
    tree = tree[tree.index("```\n") + 4:]
    tree = tree[:tree.index("```")]
    parents: list[str] = []
    paths = []
    for line in tree.splitlines():
        level = (len(line) - len(line.lstrip())) // 2
        names = [w for w in re.split(r"\s{2,}", line.strip())[0].split() if w.endswith((".py", "/", ".ci/run"))]
        if not names:
            continue  # a description's continuation line
        parents = parents[:level]
        paths += ["/".join([*parents, name]).rstrip("/") for name in names]
        if len(names) == 1 and names[0].endswith("/"):
            parents.append(names[0].rstrip("/"))
    return paths


def test_every_path_the_layout_names_exists() -> None:
    paths = _named()
    assert {"otel_llm/semconv.py", "otel_llm/collector/config", "analysis/otel_llm_analysis/clickhouse"} <= set(paths)
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"the README's Layout names what the repository lacks: {missing}"
