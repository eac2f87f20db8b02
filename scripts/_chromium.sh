# Sourced by scripts/test.sh: the report and dashboard tests drive Debian's
# chromium through Playwright (no browser download, ever). Installs it with
# apt-get when it is missing and we are root (CI is); otherwise says how, and
# the browser tests fail rather than skip.
ensure_chromium() {
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium >&2
  else
    echo "warning: chromium is missing; install it (apt-get install chromium) or the browser tests fail" >&2
  fi
}
