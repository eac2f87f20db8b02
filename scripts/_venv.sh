# Sourced by scripts/demo.sh and scripts/test.sh: creates .venv in the repo root
# if missing and installs otel-llm (editable) with the extras given as $1.
# One place, so the two README commands can never set up different environments.
#
# pip's own chatter (and setuptools' warnings about editable installs) goes to
# .venv/install.log and is shown only when the install fails; an install whose
# pyproject.toml and extras are unchanged since the last one is not repeated.
setup_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  local want extra missing=""
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  for extra in ${extras//,/ }; do  # one stamp per extra: test.sh's install also serves demo.sh
    [ "$(cat ".venv/.installed-$extra" 2>/dev/null)" = "$want" ] || missing=1
  done
  if [ -z "$missing" ]; then
    return 0
  fi
  echo "setting up .venv with otel-llm[$extras] (log: .venv/install.log)" >&2
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e ".[$extras]"; } >.venv/install.log 2>&1; then
    echo "installing otel-llm[$extras] into .venv failed:" >&2
    tail -n 40 .venv/install.log >&2
    return 1
  fi
  for extra in ${extras//,/ }; do
    echo "$want" >".venv/.installed-$extra"
  done
}
