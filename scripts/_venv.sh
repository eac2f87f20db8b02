# Sourced by scripts/demo.sh and scripts/test.sh: creates .venv in the repo root
# if missing and installs otel-llm (editable) with the extras given as $1.
# One place, so the two README commands can never set up different environments.
setup_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
}
