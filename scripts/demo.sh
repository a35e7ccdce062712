#!/usr/bin/env bash
# Set up .venv and run the main job on the examples: validate every example pipeline, then print
# the dependency graph of the sequential one as Mermaid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$root"
"$venv/bin/dagshift" validate examples/*.yaml
"$venv/bin/dagshift" graph examples/sequential.yaml
