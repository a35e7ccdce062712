#!/usr/bin/env bash
# Set up .venv and run the main job on the examples: validate every example pipeline, compile
# the sequential one to every backend into out/, and print its dependency graph as Mermaid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$root"
"$venv/bin/dagshift" validate examples/*.yaml
"$venv/bin/dagshift" compile examples/sequential.yaml -t all -o out/
"$venv/bin/dagshift" graph examples/sequential.yaml
