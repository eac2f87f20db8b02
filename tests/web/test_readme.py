"""The README's "See it" commands, run as written (the demo script's venv setup aside)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import httpx

from tests.web.conftest import OTEL_LLM, cli, free_port, wait_until_serving

README = Path(__file__).resolve().parents[2] / "README.md"


def see_it_commands() -> list[str]:
    text = README.read_text("utf-8")
    section = text[text.index("## See it: report and dashboard"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```bash[^\n]*\n(.*?)```", section, re.S)
    assert blocks, "the See it section has no bash block"
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_see_it_commands_run_as_written(tmp_path: Path) -> None:
    commands = see_it_commands()
    assert [c.split()[:2] for c in commands] == [
        ["bash", "scripts/demo.sh"], ["source", ".venv/bin/activate"], ["otel-llm", "report"], ["otel-llm", "serve"]]
    # scripts/demo.sh = set up .venv with the web extra (done: these tests run in scripts/test.sh's, which has
    # it) + this demo run; the activation puts otel-llm on PATH (these tests call the venv's otel-llm)
    demo = (README.parent / "scripts" / "demo.sh").read_text()
    assert "otel-llm demo --turns 50 --output-dir ./otel-data" in demo
    assert re.search(r"^setup_venv \S*\bweb\b", demo, re.M), "scripts/demo.sh no longer installs the web extra"
    cli("demo", "--turns", "50", "--output-dir", "./otel-data", "--latency-scale", "0", cwd=tmp_path)
    report = subprocess.run([OTEL_LLM, *shlex.split(commands[2])[1:]], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "otel-llm-report.html").read_text()
    assert "otel-llm report" in page and len(page) < 300_000  # the demo's report is small enough to mail
    port = free_port()  # the README's default port may be taken on a shared machine
    process = subprocess.Popen([OTEL_LLM, *shlex.split(commands[3])[1:], "--port", str(port)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(process, url)
        status = httpx.get(url + "/api/status").json()
        assert status["spans"] > 0 and status["watching"] == ["./otel-data"]
        assert httpx.get(url + "/").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
