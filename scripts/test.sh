#!/usr/bin/env bash
# Set up .venv with the test extras and the engine environments (scripts/engines.py), then run
# the whole test suite. Extra arguments go to pytest.
# Exit code: pytest's, except that "no tests collected" (pytest's 5) is a failure too.
set -euo pipefail
DAGSHIFT_EXTRAS=test
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$root"
# Debian's chromium and chromedriver, for the compare report's browser test (root on CI machines).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; }
  else
    echo "warning: chromium/chromedriver are missing: install the Debian packages chromium and chromium-driver" >&2
  fi
fi
# The real engines the tests run generated files on, one pinned venv each (cached between runs).
"$venv/bin/python" scripts/engines.py ensure >/dev/null
set +e
"$venv/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
