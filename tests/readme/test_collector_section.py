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


#: A value for each knob, unlike its default, that print-config shows as given.
KNOB_VALUES = {
    "OTEL_LLM_COLLECTOR_GRPC_ENDPOINT": "localhost:14317", "OTEL_LLM_COLLECTOR_HTTP_ENDPOINT": "localhost:14318",
    "OTEL_LLM_COLLECTOR_HEALTH_ENDPOINT": "localhost:23133", "OTEL_LLM_DATA_DIR": "/srv/knob-data",
    "OTEL_LLM_ROTATE_MAX_MB": "37", "OTEL_LLM_ROTATE_MAX_DAYS": "11", "OTEL_LLM_ROTATE_MAX_BACKUPS": "58",
    "OTEL_LLM_COLLECTOR_MEMORY_MIB": "333", "OTEL_LLM_CLICKHOUSE_DATABASE": "knobdb",
    "OTEL_LLM_CLICKHOUSE_TTL": "720h", "OTEL_LLM_CLICKHOUSE_CREATE_SCHEMA": "false",
    "OTEL_LLM_CLICKHOUSE_COMPRESS": "zstd", "OTEL_LLM_CLICKHOUSE_QUEUE_DIR": "/srv/knob-queue",
    "OTEL_LLM_CLICKHOUSE_QUEUE_ITEMS": "54321", "OTEL_LLM_CLICKHOUSE_QUEUE_FSYNC": "true",
}
#: How print-config shows a value given in another spelling: durations in nanoseconds.
SHOWN = {"720h": str(720 * 3600 * 10**9), "0s": "0"}


def _knobs(config: Path) -> dict[str, str]:
    """The header comment's ``VAR  default`` lines: the knobs the file documents with a default."""
    header = config.read_text("utf-8").split("\n\n", 1)[0]
    return dict(re.findall(r"^#\s+(OTEL_LLM_\w+)\s+([^\s(]\S*)", header, re.M))


def _flat(value: object, path: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{path}/{key}").items()}
    if isinstance(value, list):
        return {k: v for n, item in enumerate(value) for k, v in _flat(item, f"{path}/{n}").items()}
    return {path: str(value).lower() if isinstance(value, bool) else str(value)}


def _resolved(env: dict[str, str]) -> dict[str, str]:
    import json
    import os
    import subprocess

    from otel_llm.collector import _binary

    files = ["--config", str(CONFIG / "otelcol.yaml"), "--config", str(CONFIG / "otelcol-clickhouse.yaml")]
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    proc = subprocess.run([str(_binary.binary_path()), "print-config", "--format=json", *files],
                          env={**base, "OTEL_LLM_CLICKHOUSE_ENDPOINT": "tcp://ch.invalid:9000", **env},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-1500:]
    return _flat(json.loads(proc.stdout))


def test_every_knob_the_configs_document_is_read_with_its_documented_default() -> None:
    """``otelcol.yaml``: "Every knob is an environment variable with a default"; the README: "every knob an
    environment variable". The collector's own resolved config (``print-config``) shows each documented default
    when the variable is unset, and the variable's value where the default stood when it is set."""
    knobs = {**_knobs(CONFIG / "otelcol.yaml"), **_knobs(CONFIG / "otelcol-clickhouse.yaml")}
    assert len(knobs) >= 12 and not set(knobs) - set(KNOB_VALUES), sorted(set(knobs) - set(KNOB_VALUES))
    defaults = _resolved({})
    given = _resolved({name: KNOB_VALUES[name] for name in knobs})
    wrong = []
    for name, default in knobs.items():
        value = SHOWN.get(KNOB_VALUES[name], KNOB_VALUES[name])
        places = [path for path, shown in given.items() if shown.startswith(value) and defaults.get(path) != shown]
        if not places:
            wrong.append(f"{name}={KNOB_VALUES[name]} changes nothing in the resolved config")
        for path in places:
            # print-config leaves a false boolean out, as the collector's own config structs do
            was = defaults.get(path, "false" if default == "false" else "(absent)")
            if not was.startswith(SHOWN.get(default, default)):
                wrong.append(f"{name}: {path} is {was!r} by default, documented {default!r}")
    assert not wrong, "\n".join(wrong)
