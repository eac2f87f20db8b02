"""The package's public names are what they say, whatever was imported before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import otel_llm_analysis


def test_every_public_name_resolves_to_a_function_or_class_not_a_module() -> None:
    # Import every submodule first: a submodule named like a public function
    # would replace that function on the package (the bug this guards against).
    for info in pkgutil.iter_modules(otel_llm_analysis.__path__):
        importlib.import_module(f"otel_llm_analysis.{info.name}")
    for name in otel_llm_analysis.__all__:
        value = getattr(otel_llm_analysis, name)
        assert not inspect.ismodule(value), f"otel_llm_analysis.{name} is a module"
        assert callable(value), name


def test_the_cli_module_imports_without_duckdb() -> None:
    """Instrumented apps install otel-llm without the [analysis] extra; `otel-llm` must still start."""
    code = (
        "import sys; sys.modules['duckdb'] = None\n"  # makes `import duckdb` fail
        "import otel_llm.cli\n"
        "assert 'duckdb' not in [m for m, v in sys.modules.items() if v is not None]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
