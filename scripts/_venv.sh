# Sourced by the other scripts: make sure .venv exists with dagshift installed (editable) and the
# extras named in $DAGSHIFT_EXTRAS. Re-installs only when pyproject.toml changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
fi
stamp="$venv/.dagshift-installed-${DAGSHIFT_EXTRAS:-base}"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "==> installing dagshift${DAGSHIFT_EXTRAS:+[$DAGSHIFT_EXTRAS]} into $venv" >&2
  spec="$root"
  [ -n "${DAGSHIFT_EXTRAS:-}" ] && spec="$root[$DAGSHIFT_EXTRAS]"
  "$venv/bin/python" -m pip install --quiet -e "$spec" >&2
  touch "$stamp"
fi
