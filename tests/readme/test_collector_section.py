"""README, The collector pipeline: the modules, release and default endpoints it names are the shipped ones.

The paragraph is read from README.md and compared with the files a ``pip install`` ships
(``otel_llm/collector/config/``): the builder manifest's modules and versions, and the defaults
``otelcol.yaml`` gives its endpoints when no environment variable overrides them.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "otel_llm" / "collector" / "config"


def _paragraph() -> str:
    text = " ".join((ROOT / "README.md").read_text("utf-8").split())
    start = text.index("`otel_llm/collector/config/` (package data")
    return text[start:text.index("The collector itself validates", start)]


def _modules() -> dict[str, str]:
    """Every module of the builder manifest: its last path element -> its version."""
    manifest = yaml.safe_load((CONFIG / "builder-config.yaml").read_text("utf-8"))
    found = {}
    for section, entries in manifest.items():
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict) and "gomod" in entry:
                    module, version = entry["gomod"].split()
                    found[module.rsplit("/", 1)[1]] = version
    return found


def test_the_modules_the_readme_names_are_the_manifest_s() -> None:
    paragraph = _paragraph()
    listed = paragraph[paragraph.index("(`builder-config.yaml`:"):paragraph.index("— every module")]
    named = set(re.findall(r"`(\w+)`", listed))
    modules = _modules()
    components = {name for name in modules if not name.endswith("provider")}
    assert named == components, f"README names {sorted(named)}, the manifest holds {sorted(components)}"
    providers = {name.removesuffix("provider") for name in modules if name.endswith("provider")}
    said = set(re.findall(r"(\w+) and (\w+) confmap providers", listed)[0])
    assert providers == said, (providers, said)


def test_every_module_is_at_the_release_the_readme_names() -> None:
    releases = set(re.search(r"every module at collector release (v[\d.]+) / (v[\d.]+)", _paragraph()).groups())
    versions = set(_modules().values())
    assert versions == releases, f"README says {sorted(releases)}, the manifest uses {sorted(versions)}"
    dist = yaml.safe_load((CONFIG / "builder-config.yaml").read_text("utf-8"))["dist"]["version"]
    assert f"v{dist}" in releases


def test_the_default_endpoints_are_the_readme_s() -> None:
    """"OTLP on ``localhost:4317``/``4318`` ... health check on ``localhost:13133``": the defaults the config
    falls back to when no ``OTEL_LLM_COLLECTOR_*_ENDPOINT`` is set."""
    paragraph = _paragraph()
    grpc, http = re.search(r"OTLP on `(localhost:\d+)`/`(\d+)`", paragraph).groups()
    health = re.search(r"health check on `(localhost:\d+)`", paragraph).group(1)
    config = yaml.safe_load((CONFIG / "otelcol.yaml").read_text("utf-8"))

    def default(value: str) -> str:
        return re.fullmatch(r"\$\{env:\w+:-(.+)\}", value).group(1)

    protocols = config["receivers"]["otlp"]["protocols"]
    assert default(protocols["grpc"]["endpoint"]) == grpc
    assert default(protocols["http"]["endpoint"]) == f"localhost:{http}"
    assert default(config["extensions"]["health_check"]["endpoint"]) == health
    pipelines = config["service"]["pipelines"]
    assert sorted(pipelines) == ["logs", "metrics", "traces"]  # "three pipelines to three ... files"
    assert len({exporter for p in pipelines.values() for exporter in p["exporters"]}) == 3
    for overlay in re.findall(r"`(otelcol-[\w-]+\.yaml)`", paragraph):
        assert (CONFIG / overlay).is_file(), overlay
