# dagshift task runner for DVC stages, generated: do not edit (see docs/backends/dvc.md).
#
#     python3 .dagshift/run.py TASK DIGEST
#
# Runs what a stage's cmd cannot say exactly: the task TASK of .dagshift/tasks.json. DIGEST, the
# hash of the task's spec in the stage's cmd, makes DVC re-run exactly the stages whose spec
# changed; a spec that does not match it stops the run.
# Placeholders are resolved here, at run time: params from params.yaml,
# upstream values from the files their stages wrote under .dagshift/outputs/.
# User text is data in that JSON file, never part of a command line that DVC or the shell would
# read. This file holds only what the pipeline's runner tasks use.
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _path(*parts):
    return os.path.join(ROOT, *parts)


def _text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _params():
    with open(_path("params.yaml"), encoding="utf-8") as handle:
        text = handle.read()
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:  # params.yaml rewritten as YAML: read it with whatever YAML library is there
        from ruamel.yaml import YAML

        return YAML(typ="safe").load(text)
    except ImportError:
        import yaml

        return yaml.safe_load(text)


def _spec(task, digest):
    """The task's spec from .dagshift/tasks.json, if it is the one the stage's cmd names."""
    with open(_path(".dagshift", "tasks.json"), encoding="utf-8") as handle:
        spec = json.load(handle).get(task)
    canonical = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if spec is None or hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12] != digest:
        sys.exit(
            "dagshift: the spec of task %s in .dagshift/tasks.json does not match dvc.yaml: "
            "run `dagshift compile` again" % task
        )
    return spec


def _read(path, kind):
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    text = text.removesuffix("\n")
    return text if kind == "str" else json.loads(text)


def _output(name, kind, path, items, params):
    """An upstream value: the file its stage wrote."""
    return _read(_path(path), kind)


def _value(spec, params, item, out_paths):
    if isinstance(spec, list):
        return [_value(v, params, item, out_paths) for v in spec]
    if not isinstance(spec, dict):
        return spec
    if "$dagshift" not in spec:
        return {k: _value(v, params, item, out_paths) for k, v in spec.items()}
    ref = spec["$dagshift"]
    kind = ref[0]
    if kind == "literal":
        return ref[1]
    if kind == "concat":
        return "".join(_text(_value(part, params, item, out_paths)) for part in ref[1:])
    if kind == "param":
        return params[ref[1]]
    if kind == "output":
        return _output(*ref[2:], params)
    raise ValueError("unknown placeholder " + repr(ref))


def attempt(task, digest, key=None):
    spec = _spec(task, digest)
    params = _params()
    item = None
    out_paths = {}
    env = dict(os.environ)
    # bash, as every target runs shell commands (docs/backends/dvc.md).
    argv = ["bash", "-c", _text(_value(spec["command"], params, item, out_paths))]
    return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(attempt(*sys.argv[1:]))
