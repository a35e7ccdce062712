"""Argo's resource and http templates as container tasks that do the same work: `kubectl` applies
the manifest and waits for its conditions, `curl` makes the request and checks the response.

Argo runs these inside its own executor; a pipeline task runs a command in an image. The command
is a fixed script, and everything taken from the workflow (manifest, flags, URL, headers, body,
conditions) is passed to it as arguments, never spliced into the script. Each such task is a W602:
the image, the credentials it runs with and the polling differ from Argo's executor.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.importers.base import line_of, plain

from .state import ReadState
from .stop import ImportStop
from .values import as_text, first_key, identifier, pipeline_text

KUBECTL_IMAGE = "bitnami/kubectl:latest"
CURL_IMAGE = "curlimages/curl:latest"

# $1 action, $2 merge strategy, $3 manifest, $4 success and $5 failure conditions (one per line:
# path TAB operator TAB value[|value...]), $6 the number of kubectl flags, then the flags, then pairs
# of (jsonpath, output file). Argo polls the resource until a condition holds; so does this loop.
KUBECTL_SCRIPT = r"""set -euo pipefail
action=$1 strategy=$2 manifest=$3 success=$4 failure=$5 nflags=$6
flags=("${@:7:nflags}")
outputs=("${@:7+nflags}")
args=("$action")
if [ "$action" = patch ]; then
  args+=(--type "$strategy" -p "$manifest")
  [ "$strategy" = json ] || args+=(-f -)
else
  args+=(-f -)
fi
[ "$action" = delete ] || args+=(-o name)
ref=$(printf '%s\n' "$manifest" | kubectl "${args[@]}" "${flags[@]}")
printf '%s\n' "$ref"
holds() {
  while IFS=$'\t' read -r path op want; do
    [ -n "$path" ] || continue
    got=$(kubectl get "$ref" -o jsonpath="{.$path}")
    case $op in
      '=') [ "$got" = "$want" ] || return 1 ;;
      '!=') [ "$got" != "$want" ] || return 1 ;;
      '>') [ "${got:-0}" -gt "$want" ] 2>/dev/null || return 1 ;;
      '<') [ "${got:-0}" -lt "$want" ] 2>/dev/null || return 1 ;;
      in) case "|$want|" in *"|$got|"*) ;; *) return 1 ;; esac ;;
      notin) case "|$want|" in *"|$got|"*) return 1 ;; esac ;;
    esac
  done <<<"$1"
}
while [ -n "$success$failure" ]; do
  if [ -n "$failure" ] && holds "$failure"; then
    echo "the failure condition holds for $ref" >&2
    exit 1
  fi
  if [ -z "$success" ] || holds "$success"; then break; fi
  sleep 5
done
for ((i = 0; i < ${#outputs[@]}; i += 2)); do
  kubectl get "$ref" -o jsonpath="${outputs[i]}" >"${outputs[i+1]}"
done
"""

# $1 method, $2 URL, $3 body, $4 timeout in seconds (or empty), $5 checks (one per line: "status"
# TAB operator TAB number, or "contains" TAB text), then curl's options (headers, -k). The response
# body is printed (Argo's outputs.result); without checks, a 2xx status succeeds.
CURL_SCRIPT = r"""method=$1 url=$2 body=$3 timeout=$4 checks=$5
shift 5
response=$(mktemp)
if [ -n "$body" ]; then set -- "$@" --data-binary "$body"; fi
if [ -n "$timeout" ]; then set -- "$@" --max-time "$timeout"; fi
status=$(curl -sS -o "$response" -w '%{http_code}' -X "$method" "$@" -- "$url") || exit 1
cat "$response"
if [ -z "$checks" ]; then
  [ "$status" -ge 200 ] && [ "$status" -lt 300 ] && exit 0
  echo "HTTP status $status" >&2
  exit 1
fi
tab=$(printf '\t')
printf '%s\n' "$checks" | while IFS="$tab" read -r what op want; do
  case $what in
    status) [ "$status" "$op" "$want" ] || { echo "HTTP status $status, expected $op $want" >&2; exit 1; } ;;
    contains) grep -qF -- "$op" "$response" || { echo "the response does not contain $op" >&2; exit 1; } ;;
  esac
done
"""

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\[\]-]+)\s*(==|=|!=|>|<)\s*([^,()\s]+)\s*$")
_SET_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\[\]-]+)\s+(in|notin)\s*\(([^()]*)\)\s*$")
_STATUS_CHECK = re.compile(r"^\s*response\.statusCode\s*(==|!=|>=|<=|>|<)\s*(\d+)\s*$")
_BODY_CHECK = re.compile(r'^\s*response\.body\s+contains\s+"((?:[^"\\]|\\.)*)"\s*$')
_TEST_OPERATORS = {"==": "-eq", "!=": "-ne", ">=": "-ge", "<=": "-le", ">": "-gt", "<": "-lt"}
_RESOURCE_KEYS = {"action", "mergeStrategy", "manifest", "flags", "successCondition", "failureCondition",
                  "setOwnerReference"}
_HTTP_KEYS = {"url", "method", "headers", "body", "timeoutSeconds", "successCondition", "insecureSkipVerify"}


def _split_requirements(condition: str) -> list[str]:
    """A label-selector style condition: requirements separated by commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in condition:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def resource_condition(condition: str) -> str | None:
    """Argo's condition as the lines KUBECTL_SCRIPT checks, or None when it cannot read it."""
    lines = []
    for requirement in _split_requirements(condition):
        match = _REQUIREMENT.match(requirement)
        if match:
            path, operator, value = match.groups()
            lines.append(f"{path}\t{'=' if operator == '==' else operator}\t{value}")
            continue
        match = _SET_REQUIREMENT.match(requirement)
        if not match:
            return None
        values = [v.strip() for v in match.group(3).split(",") if v.strip()]
        lines.append(f"{match.group(1)}\t{match.group(2)}\t{'|'.join(values)}")
    return "\n".join(lines)


def http_checks(condition: str) -> str | None:
    """An HTTP successCondition of `&&`-joined status comparisons and body `contains`, as lines."""
    lines = []
    for part in condition.split("&&"):
        status = _STATUS_CHECK.match(part)
        body = _BODY_CHECK.match(part)
        if status:
            lines.append(f"status\t{_TEST_OPERATORS[status.group(1)]}\t{status.group(2)}")
        elif body and "\t" not in body.group(1) and "\n" not in body.group(1):
            lines.append("contains\t" + re.sub(r"\\(.)", r"\1", body.group(1)))
        else:
            return None
    return "\n".join(lines)


def resource_task(state: ReadState, template: dict, scope: dict) -> dict:
    """A resource template as a task running KUBECTL_SCRIPT."""
    resource = template["resource"] or {}
    line = line_of(template, "resource")
    if "manifestFrom" in resource:
        raise ImportStop(f"template '{template.get('name')}' reads its manifest from an artifact "
                         "(manifestFrom)", line_of(resource, "manifestFrom"), help="port it to a kubectl task by hand")
    action = str(resource.get("action") or "")
    if action not in ("get", "create", "apply", "delete", "replace", "patch"):
        raise ImportStop(f"template '{template.get('name')}': resource action '{action}' is not one Argo knows",
                         line_of(resource, "action"))
    for key in resource:
        if key not in _RESOURCE_KEYS:
            state.report.loss(f"resource {key} is not carried", line_of(resource, key))
    if resource.get("setOwnerReference"):
        state.report.loss("setOwnerReference is not carried: the resource is not deleted with the run",
                          line_of(resource, "setOwnerReference"))
    conditions = []
    for key in ("successCondition", "failureCondition"):
        text = str(resource.get(key) or "")
        lines = resource_condition(text) if text else ""
        if lines is None:
            state.report.loss(f"resource {key} '{text}' is not carried (dagshift reads comparisons, `in` and "
                              "`notin` joined by commas)", line_of(resource, key))
            lines = ""
        conditions.append(pipeline_text(state, lines, scope, line_of(resource, key)))
    flags = [pipeline_text(state, as_text(plain(f)), scope, line_of(resource, "flags"))
             for f in resource.get("flags") or []]
    task: dict[str, Any] = {"image": KUBECTL_IMAGE, "outputs": {}}
    outputs: list[str] = []
    for entry in (template.get("outputs") or {}).get("parameters") or []:
        value_from = entry.get("valueFrom") or {}
        name = identifier(str(entry.get("name")))
        if "jsonPath" in value_from:
            path = str(value_from["jsonPath"])
        elif str(value_from.get("jqFilter", "")).strip() == ".":
            path = "{@}"
            state.report.loss(f"output parameter '{name}': the jq filter '.' is carried as kubectl's jsonpath "
                              "'{@}' (the same object, formatted by kubectl)", line_of(value_from, "jqFilter"),
                              approximate=True)
        elif "jqFilter" in value_from:
            state.report.loss(f"output parameter '{name}': the jq filter {value_from['jqFilter']!r} is not carried",
                              line_of(value_from, "jqFilter"))
            continue
        else:
            continue  # a file output: read as any template's
        task["outputs"][name] = {"type": "str"}
        outputs += [pipeline_text(state, path, scope, line_of(entry)), f"${{{{ outputs.{name} }}}}"]
    manifest = pipeline_text(state, str(resource.get("manifest") or ""), scope, line_of(resource, "manifest"))
    task["command"] = ["bash", "-c", KUBECTL_SCRIPT, "kubectl", action,
                       str(resource.get("mergeStrategy") or "strategic"), manifest, *conditions,
                       str(len(flags)), *flags, *outputs]
    if not task["outputs"]:
        del task["outputs"]
    polled = "; its conditions are polled every 5 s" if any(conditions) else ""
    state.report.loss(f"resource template '{template.get('name')}' runs as a task: kubectl {action} in "
                      f"{KUBECTL_IMAGE}, with the task's own credentials{polled}", line, approximate=True,
                      help="check that the task's service account may do this")
    return task


def http_task(state: ReadState, template: dict, scope: dict) -> dict:
    """An http template as a task running CURL_SCRIPT."""
    http = template["http"] or {}
    line = line_of(template, "http")
    for key in http:
        if key not in _HTTP_KEYS:
            state.report.loss(f"http {key} is not carried", line_of(http, key))
    options: list[str] = []
    for header in http.get("headers") or []:
        name = str(header.get("name"))
        if "value" in header:
            value = pipeline_text(state, as_text(plain(header["value"])), scope, line_of(header))
            options += ["-H", f"{name}: {value}"]
        else:  # a secret's value cannot be passed to curl's arguments without writing it into the command
            state.report.loss(f"header '{name}' from {first_key(header.get('valueFrom'))} is not carried",
                              line_of(header))
    if http.get("insecureSkipVerify"):
        options.append("-k")
    checks = ""
    condition = str(http.get("successCondition") or "")
    if condition:
        read = http_checks(condition)
        if read is None:
            state.report.loss(f"successCondition '{condition}' is not carried (dagshift reads status "
                              "comparisons and `response.body contains \"...\"`): a 2xx status succeeds",
                              line_of(http, "successCondition"))
        checks = read or ""
    task: dict[str, Any] = {"image": CURL_IMAGE, "command": [
        "sh", "-c", CURL_SCRIPT, "curl",
        pipeline_text(state, str(http.get("method") or "GET"), scope, line),
        pipeline_text(state, as_text(plain(http.get("url") or "")), scope, line_of(http, "url")),
        pipeline_text(state, as_text(plain(http.get("body") or "")), scope, line_of(http, "body")),
        as_text(plain(http.get("timeoutSeconds") or "")), pipeline_text(state, checks, scope, line), *options]}
    state.report.loss(f"http template '{template.get('name')}' runs as a task: curl in {CURL_IMAGE}, from the "
                      "task's own network rather than Argo's agent", line, approximate=True)
    return task
