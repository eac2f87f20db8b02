"""A newcomer's first hour: the README and docs, followed as written, do what they say.

``test_examples.py`` runs every example in this environment and checks it succeeds;
these tests check what the text promises beyond that, taking commands and files
from README.md itself: what a command prints (an ingest that priced stored calls says
so), that a step taken too early says what to do next, that the set-up and install
lines work in a fresh shell and a fresh environment, and the facts the docs state
about exit codes, extras and decorator order.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.readme.test_examples import ALL, BIN, ROOT, Block, _env


def _readme_line(containing: str) -> str:
    """The README shell line holding ``containing``, without its comment: the command as a reader copies it."""
    for block in ALL:
        if block.document.name == "README.md" and block.language == "bash" and "not-run" not in block.options:
            for line in block.text.splitlines():
                if containing in line:
                    return line.split(" #", 1)[0].strip()
    raise AssertionError(f"README.md has no shell line with {containing!r}")


def _readme_file(name: str) -> str:
    return next(b.text for b in ALL if b.document.name == "README.md" and b.options.get("file") == name)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=_env(cwd),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def after_demo(tmp_path: Path) -> Path:
    """A directory where ``otel-llm demo`` just ran: ./otel-data written and ingested, acme-grader-1 unpriced."""
    proc = subprocess.run([str(BIN / "otel-llm"), "demo", "--turns", "5", "--latency-scale", "0"], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "acme-grader-1" in proc.stdout and "unpriced" in proc.stdout
    return tmp_path


def test_ingest_with_a_pricing_file_says_it_priced_the_stored_calls(after_demo: Path) -> None:
    """README: ``otel-llm ingest ./otel-data --pricing prices.yaml  # your prices for calls that carry tokens
    but no cost``; docs/analyses.md: ingesting again with a new price prices the calls already stored.

    After the demo every file was read, so nothing is new: the command must still say what it did
    (it priced the demo's judge calls), not only "nothing new".
    """
    (after_demo / "prices.yaml").write_text(_readme_file("prices.yaml"), "utf-8")
    proc = _run(_readme_line("--pricing prices.yaml"), after_demo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = _run("otel-llm summary --by model --format json", after_demo)
    judge = next(row for row in json.loads(summary.stdout)["rows"] if row["key"] == "acme-grader-1")
    assert judge["priced_calls"] > 0 and judge["cost_usd"] > 0  # the file's price was applied ...
    said = re.search(r"priced (\d+) call\(s\) at ingest \(([^)]*)\)", proc.stdout)
    assert said, f"the ingest priced {judge['priced_calls']} calls and did not say so:\n{proc.stdout}"  # ... and said
    assert int(said.group(1)) == judge["priced_calls"] and "user" in said.group(2), proc.stdout
    assert "were read before" in proc.stdout  # still says why no line was read


def test_ingest_after_an_interrupted_one_says_it_finished_it(after_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README: after an ingest stopped between its commits, "the next `otel-llm ingest` works all of that out
    for the rows already stored, even with no new data, and its report says `finished N span(s) an
    interrupted ingest left`"."""
    import typer
    from typer.testing import CliRunner

    import otel_llm_analysis.store as store_module
    from otel_llm_analysis import TraceStore
    from otel_llm_analysis.cli import register

    data, db = after_demo / "otel-data", str(after_demo / "interrupted.duckdb")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C once the rows are committed, before they are priced and paired

    with TraceStore(db) as store, monkeypatch.context() as patch:
        patch.setattr(store_module, "price_calls", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.ingest([str(data)])
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["ingest", str(data), "--db", db])
    assert result.exit_code == 0, result.output
    assert re.search(r"finished \d+ span\(s\) an interrupted ingest left", result.stdout), result.stdout


def test_ingest_before_any_data_says_where_data_comes_from(tmp_path: Path) -> None:
    """The Quickstart's ``otel-llm ingest ./otel-data`` run before the app (or in another directory):
    the error says what writes ./otel-data, not only that it is missing."""
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 1 and "no such file or directory" in proc.stderr, proc.stderr
    assert "otel_llm.configure()" in proc.stderr and "otel-llm demo" in proc.stderr, proc.stderr
    (tmp_path / "otel-data").mkdir()  # made, not written to yet
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 1 and "no trace, metric or log files here" in proc.stderr, proc.stderr
    assert "otel_llm.configure()" in proc.stderr and "otel-llm demo" in proc.stderr, proc.stderr


def _in_private_network(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``script`` in a network namespace of its own: the collector's default ports are its alone."""
    return subprocess.run(["unshare", "--net", "--", "bash", "-c", "ip link set lo up && exec bash -euo pipefail -c "
                           + shlex.quote(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_ingest_of_what_a_collector_never_received_says_how_to_send_it(tmp_path: Path) -> None:
    """The collector section's ``OTEL_LLM_EXPORTER=otlp python app.py`` with the collector not started: the
    app says its spans were spooled; ``otel-llm ingest ./otel-data`` then finds no data file, and says that
    the spool holds them and how they reach the files. Doing what it says brings them into the store."""
    from tests.readme.test_examples import _collector_cache

    (tmp_path / "app.py").write_text(_readme_file("app.py"), "utf-8")
    env = _env(tmp_path) | {"OTEL_LLM_SHUTDOWN_TIMEOUT_S": "1", "OTEL_LLM_CACHE_DIR": str(_collector_cache(tmp_path))}
    app = _readme_line("OTEL_LLM_EXPORTER=otlp python app.py")
    down = _in_private_network(app, tmp_path, env)
    assert down.returncode == 0 and "spooled to otel-data/spool" in down.stderr, down.stderr
    proc = _in_private_network(_readme_line("otel-llm ingest ./otel-data"), tmp_path, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "otel-data/spool" in proc.stderr, proc.stderr
    start, ingest = re.search(r"start it \(`(otel-llm collector start [^`]+)`\) and run the app again, which sends "
                              r"them first, then `(otel-llm ingest [^`]+)`", proc.stderr).groups()
    try:
        followed = _in_private_network(f"{start}\n{app}\notel-llm collector stop\n{ingest}", tmp_path, env)
    finally:  # never leave a collector behind, whatever failed
        subprocess.run([str(BIN / "otel-llm"), "collector", "stop"], cwd=tmp_path, env=env, capture_output=True,
                       timeout=60)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "+6 spans" in followed.stdout, followed.stdout  # the spooled run's 3 and the new run's 3


def _checkout_copy(into: Path) -> Path:
    """This checkout's files as a clone would have them (tracked and new, not ignored), the working tree's text."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def _readme_block(after: str, *, not_run: bool) -> Block:
    """The first shell block below the README heading ``after`` that is (or is not) fenced not-run."""
    text = (ROOT / "README.md").read_text("utf-8")
    heading = text[:text.index(f"\n## {after}\n")].count("\n") + 2
    return next(b for b in ALL if b.document.name == "README.md" and b.line > heading and b.language == "bash"
                and ("not-run" in b.options) == not_run)


@pytest.mark.timeout(900)  # two real installs into a fresh venv
def test_a_newcomer_in_a_fresh_shell_follows_the_readme_in_order(tmp_path: Path) -> None:
    """The README's first hour as one shell session on a fresh checkout, with only the system's Python on
    PATH: the Quickstart's install block, its app.py and commands, then "See it"'s set-up and report.

    The example runner gives every block this environment's ``otel-llm``; a newcomer has none until a
    set-up block makes one, and a bare ``pip install`` targets the system's Python (refused outright where
    it is externally managed, PEP 668). The set-up blocks must leave ``otel-llm`` on PATH themselves.
    """
    checkout = _checkout_copy(tmp_path / "otel-llm")
    (checkout / "app.py").write_text(_readme_file("app.py"), "utf-8")
    steps = [_readme_block("Quickstart (30 seconds)", not_run=True), _readme_block("Quickstart (30 seconds)",
             not_run=False), _readme_block("See it: report and dashboard", not_run=True),
             _readme_block("See it: report and dashboard", not_run=False)]
    script = "\n".join(f"echo '--- README.md:{step.line}'\n{step.text}" for step in steps)
    system_path = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())
    env = {"HOME": str(tmp_path), "PATH": system_path, "LANG": "C.UTF-8", "COLUMNS": "100",
           "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "OTEL_LLM_RAISE_INTERNAL_ERRORS": "1"}
    assert subprocess.run(["bash", "-c", "command -v otel-llm"], env=env).returncode != 0  # none to begin with
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    assert "In short: What is OTLP?" in proc.stdout
    assert (checkout / "otel-llm-report.html").stat().st_size > 10_000


@pytest.mark.parametrize("script, claim", [
    ("test.sh", r"`bash scripts/test\.sh` \(what CI runs\) installs `\.\[([a-z,]+)\]`"),
    ("demo.sh", r"bash scripts/demo\.sh +# \.venv with otel-llm\[([a-z,]+)\]"),
])
def test_the_extras_the_readme_says_a_script_installs_are_those_it_installs(script: str, claim: str) -> None:
    installs = re.search(r"^\s*setup_venv (\S+)$", (ROOT / "scripts" / script).read_text("utf-8"), re.M)
    said = re.search(claim, (ROOT / "README.md").read_text("utf-8"))
    assert installs and said, f"README.md or scripts/{script} no longer says which extras"
    assert sorted(said.group(1).split(",")) == sorted(installs.group(1).split(",")), (script, said.group(0))


def _closure(roots: list[tuple[str, set[str]]]) -> set[str]:
    """Every distribution ``roots`` (name, extras) bring with them, as installed here (names normalised)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen and not extras:
            continue
        seen.add(key)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
                todo.append((req.name, set(req.extras)))
    return seen


def _imports(source: str) -> set[str]:
    """The top-level modules ``source`` imports, standard library left out."""
    import ast
    import sys

    nodes = list(ast.walk(ast.parse(source)))
    modules = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in nodes
                if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return modules - set(sys.stdlib_module_names)


@pytest.mark.parametrize("name", ["app.py", "test_app.py"])
def test_the_readme_installs_what_each_saved_file_imports_and_runs_it_with(name: str) -> None:
    """Every ``pip install`` line above a file the README has the reader save, taken together, brings the
    modules the file imports (``test_app.py``: pytest too, which the text says to run it with)."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    from tests.readme.test_examples import _commands

    readme = [b for b in ALL if b.document.name == "README.md"]
    saved = next(b for b in readme if b.options.get("file") == name)
    roots: list[tuple[str, set[str]]] = []
    for block in (b for b in readme if b.line < saved.line and "not-run" in b.options):
        for line in (line for line in _commands(block.text) if line.startswith("pip install")):
            for arg in (a for a in shlex.split(line)[2:] if not a.startswith("-")):
                spec, _, extras = arg.partition("[")
                roots.append(("otel-llm" if spec in {".", "./"} else spec,
                              set(extras.rstrip("]").split(",")) - {""}))
    installed = _closure(roots)
    local = {b.options["file"].removesuffix(".py") for b in readme if b.options.get("file", "").endswith(".py")}
    providers = metadata.packages_distributions()
    for module in sorted(_imports(saved.text) - local):  # test_app.py imports pytest, which runs it
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists & installed, f"README.md's {name} needs {module} ({sorted(dists)}), which no install line " \
                                  f"above it brings: {roots}"


def test_the_readme_s_langgraph_advice_names_tool_spans_as_the_model_calls_the_tool() -> None:
    """README, Agents and tools: "LangGraph and LangChain: ... (`@X` above `@Y`)". Followed as written for a
    tool the model knows as ``web_search`` whose function is ``search``, the span and the tool metrics must
    carry ``web_search``: the name in the model's tool calls, in ``otel-llm tools`` and in peers' traces."""
    from langchain_core.tools import tool

    import otel_llm
    from otel_llm import semconv as sc
    from otel_llm.testing import capture

    text = (ROOT / "README.md").read_text("utf-8")
    advice = text[text.index("LangGraph and LangChain:"):][:400]
    upper, lower = re.search(r"`@([\w.]+)` above `@([\w.]+)`", advice).groups()
    decorators = {"tool": tool("web_search"), "otel_llm.tool": otel_llm.tool}

    def search(query: str) -> str:
        """Search the web."""
        return f"results for {query}"

    web_search = decorators[upper](decorators[lower](search))
    with capture() as cap:
        web_search.invoke({"name": "web_search", "args": {"query": "otel"}, "id": "call_1", "type": "tool_call"})
    (span,) = [s for s in cap.spans() if s.attributes.get(sc.OTEL_LLM_KIND) == "tool"]
    assert span.name == "execute_tool web_search", f"README's order @{upper} above @{lower} gives {span.name!r}"
    assert {dict(p.attributes)[sc.GEN_AI_TOOL_NAME] for p in cap.metrics()[sc.METRIC_TOOL_CALLS]} == {"web_search"}


def test_the_budget_exit_codes_docs_list_include_the_one_for_a_spend_nobody_priced(tmp_path: Path) -> None:
    """docs/analyses.md's Budgets section lists the exit codes a CI job gates on; a store whose calls all lack
    a price makes ``otel-llm budget`` exit with a code that list must name."""
    app = ("import otel_llm\notel_llm.configure()\n"
           "@otel_llm.llm_call(model='acme-unlisted-9', provider='acme')\n"
           "def ask():\n    return {'usage': {'prompt_tokens': 10, 'completion_tokens': 5}}\n"
           "ask()\n")
    (tmp_path / "app.py").write_text(app, "utf-8")
    proc = _run("python app.py && otel-llm ingest ./otel-data && otel-llm budget --monthly 5", tmp_path)
    assert "unknown" in proc.stdout, proc.stdout + proc.stderr
    code = proc.returncode
    docs = (ROOT / "docs" / "analyses.md").read_text("utf-8")
    section = docs[docs.index("## Budgets"):docs.index("\n## ", docs.index("## Budgets") + 1)]
    listed = re.search(r"\*\*Exit codes: ([^*]+)\*\*", section)
    assert listed, "docs/analyses.md's Budgets section no longer lists its exit codes"
    codes = {int(n) for n in re.findall(r"(?:^|, )(\d) ", listed.group(1))}
    assert code in codes and code not in (0, 1, 2), f"budget exited {code}; the docs list {listed.group(1)!r}"
    assert "unknown" in section[:section.index("Burn rate")], "the statuses the section opens with leave out unknown"


def _install_lines() -> list[tuple[str, str]]:
    """(block id, line) of every ``pip install`` line of README.md, as a reader copies it."""
    from tests.readme.test_examples import _commands

    return [(block.id, line) for block in ALL if block.document.name == "README.md" and "not-run" in block.options
            for line in _commands(block.text) if line.startswith("pip install")]


@pytest.mark.parametrize("where, line", _install_lines(), ids=[where for where, _ in _install_lines()])
def test_each_readme_install_line_resolves_in_a_fresh_environment(where: str, line: str) -> None:
    """Run from the checkout's root as the README's other lines are, each install line finds what it names;
    otel-llm itself is not on a package index, so it is installed from the checkout (``-e '.[extra]'``)."""
    import sys

    args = shlex.split(line)[2:]
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
                           "--disable-pip-version-check", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{where}: `{line}` fails in a fresh environment:\n{proc.stderr[-1500:]}"


def test_the_python_api_without_the_analysis_extra_says_what_to_install(tmp_path: Path) -> None:
    """README, Analysis: "DuckDB is an extra, so instrumented apps don't pull it in". An app's environment
    without it running the README's Python example gets the install line, as the commands give it."""
    import sys

    example = next(b for b in ALL if b.document.name == "README.md" and b.language == "python"
                   and "from otel_llm_analysis import" in b.text)
    (tmp_path / "example.py").write_text(example.text, "utf-8")
    without_duckdb = "import runpy, sys\nsys.modules['duckdb'] = None\nrunpy.run_path('example.py')\n"
    proc = subprocess.run([sys.executable, "-c", without_duckdb], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "pip install 'otel-llm[analysis]'" in proc.stderr.strip().splitlines()[-1], proc.stderr[-1500:]


def test_the_quickstart_app_writes_the_spans_its_comment_names(tmp_path: Path) -> None:
    """README Quickstart: ``python app.py  # one chat turn: a chat span, a graph node, an LLM call``, the call
    with the model, tokens and response the app's stand-in API answered, in the session's context."""
    (tmp_path / "app.py").write_text(_readme_file("app.py"), "utf-8")
    query = ("SELECT otel_kind, name, model, response_model, input_tokens, output_tokens, conversation_id, user_id, "
             "project, service_name FROM spans ORDER BY start_time")
    proc = _run(f"{_readme_line('python app.py')} && otel-llm ingest ./otel-data >/dev/null && "
                f"otel-llm sql {shlex.quote(query)} --format json", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(proc.stdout[proc.stdout.index("{"):])["rows"]
    assert [(r["otel_kind"], r["name"]) for r in rows] == [
        ("chat", "chat_turn answer"), ("graph_node", "retrieve"), ("llm_call", "chat gpt-4o")], rows
    call = rows[2]
    assert (call["model"], call["response_model"], call["input_tokens"], call["output_tokens"]) == (
        "gpt-4o", "gpt-4o-2024-08-06", 42, 17)
    assert rows[0]["conversation_id"] == "t1"  # @otel_llm.chat(thread_id_arg="thread_id")
    assert {(r["user_id"], r["project"], r["service_name"]) for r in rows} == {("u7", "alpha", "rag-api")}


def _commands_of(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of ``otel-llm`` (sub-commands included), with the words that run it."""
    found = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        found.append(((*path, name), command))
        found += _commands_of(command, (*path, name))
    return found


def _words(text: str) -> str:
    """Help text without the table's frame and the terminal's wrapping: the words in order."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_option_s_help_is_shown_whole() -> None:
    """``otel-llm COMMAND --help`` shows each command's and option's help as written: text in square brackets (a
    default such as ``[localhost:4317]``) is Rich markup to the help renderer, and vanished from the page."""
    import typer.main
    from typer.testing import CliRunner

    from otel_llm.cli import app

    root = typer.main.get_command(app)
    lost = []
    for words, command in _commands_of(root):
        shown = _words(CliRunner().invoke(app, [*words, "--help"], terminal_width=400, env={"COLUMNS": "400"}).output)
        texts = [("", command.help or ""), ("", command.epilog or "")]
        texts += [(f" {param.opts[0]}", getattr(param, "help", None) or "") for param in command.params]
        for where, text in texts:
            for paragraph in filter(None, map(_words, text.split("\n\n"))):
                if paragraph not in shown:
                    lost.append(f"otel-llm {' '.join(words)}{where}: {paragraph!r}")
    assert not lost, "help text not shown as written:\n" + "\n".join(lost)


def test_a_budget_for_a_project_before_its_first_call_is_0_spent(tmp_path: Path) -> None:
    """A newcomer sets the Quickstart's ``otel-llm budget --monthly 50`` for their project (``alpha``, the
    Quickstart app's) before it made a call - on a store with no call at all, then on one holding another
    project's: the budget is $0 spent and says there are no calls yet (naming the projects there are, so a
    misspelt name shows), exit 0 - not a usage error that fails the CI job gating on it."""
    data = tmp_path / "otel-data"
    data.mkdir()
    (data / "traces.jsonl").write_text("", "utf-8")  # an app configured, nothing called yet
    budget = f"{_readme_line('otel-llm budget --monthly 50')} --project alpha"
    for setup in ("otel-llm ingest ./otel-data", "otel-llm demo --turns 2 --latency-scale 0"):
        proc = _run(f"{setup} >/dev/null && {budget}", tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "no calls yet" in proc.stdout and "$0" in proc.stdout, proc.stdout
        assert "error" not in proc.stderr, proc.stderr
    assert "the store has projects: demo" in " ".join(proc.stdout.split()), proc.stdout
    as_json = _run(f"{budget} --format json", tmp_path)
    (row,) = json.loads(as_json.stdout)["rows"]
    assert (row["project"], row["spent"], row["calls"], row["status"]) == ("alpha", 0.0, 0, "ok"), row


def test_the_first_ingest_of_empty_files_says_they_are_empty(tmp_path: Path) -> None:
    """``otel-llm ingest ./otel-data`` over files an app opened and has not written to yet said "its 1 file(s)
    were read before" on its very first run; it says they are empty. ``traces --tree`` then says "no data"
    rather than printing the table's bare header, and that the store holds nothing yet."""
    (tmp_path / "otel-data").mkdir()
    (tmp_path / "otel-data" / "traces.jsonl").write_text("", "utf-8")
    proc = _run(_readme_line("otel-llm ingest ./otel-data"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "are empty" in proc.stdout and "read before" not in proc.stdout, proc.stdout
    tree = _run(_readme_line("otel-llm traces --top 3 --by cost --tree"), tmp_path)
    assert tree.returncode == 0 and tree.stdout.strip().splitlines() == [
        "top 3 traces by cost: no data", "the store holds nothing: no spans, metric points or logs"], tree.stdout


@pytest.mark.parametrize("name, text, said", [
    ("budgets.yaml", "monthly: [\n", "cannot read budgets from budgets.yaml: while parsing a flow node"),
    ("budgets.json", '{"monthly": ', "cannot read budgets from budgets.json: Expecting value"),
    ("missing.yaml", None, "cannot read budgets from missing.yaml: No such file or directory"),
])
def test_a_budgets_file_that_cannot_be_read_is_one_line(tmp_path: Path, name: str, text: str | None,
                                                        said: str) -> None:
    """docs/analyses.md's budgets file, mistyped: one ``error:`` line naming the file (a YAML syntax error said
    "otel-llm failed (ParserError ...)"; a missing file showed Python's "[Errno 2]"), exit 2."""
    if text is not None:
        (tmp_path / name).write_text(text, "utf-8")
    (tmp_path / "otel-data").mkdir()
    (tmp_path / "otel-data" / "traces.jsonl").write_text("", "utf-8")
    proc = _run(f"otel-llm ingest ./otel-data >/dev/null && otel-llm budget --file {name}", tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {said}"), proc.stderr


def test_the_quickstart_summary_by_model_says_what_its_dash_row_is(tmp_path: Path) -> None:
    """``otel-llm summary --by model  # gpt-4o: 1 call, ...`` also shows a row ``-`` of 0 calls (the chat turn and
    the graph node have no model); a newcomer is told what it is, under the table and in the JSON's notes."""
    (tmp_path / "app.py").write_text(_readme_file("app.py"), "utf-8")
    line = _readme_line("otel-llm summary --by model")
    proc = _run(f"python app.py >/dev/null && otel-llm ingest ./otel-data >/dev/null && {line} --format json",
                tmp_path)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [(r["key"], r["llm_calls"], r["spans"]) for r in document["rows"]] == [("gpt-4o", 1, 1), (None, 0, 2)]
    assert "-: the 2 span(s) with no model (chat turns, graph nodes, tools...), none of them an LLM call" in \
        document["notes"], document["notes"]


def test_an_analysis_before_any_ingest_gives_the_ingest_line_to_copy(tmp_path: Path) -> None:
    """The Quickstart's ``otel-llm summary --by model`` run before its ingest: the error gives the command that
    makes the default store, as the Quickstart writes it, ready to copy (not a ``PATH...`` placeholder)."""
    proc = _run(_readme_line("otel-llm summary --by model"), tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"run `{_readme_line('otel-llm ingest ./otel-data')}` first" in proc.stderr, proc.stderr
