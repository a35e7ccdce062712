# dagshift task runner for DVC stages, generated: do not edit (see docs/backends/dvc.md).
#
#     python3 .dagshift/run.py TASK [KEY]
#
# Runs the task described by .dagshift/tasks/TASK.json (KEY: DVC's foreach key of this run).
# Placeholders are resolved here, at run time: params from params.yaml, upstream values from the
# files their stages wrote under .dagshift/outputs/. User text is data in that JSON file, never
# part of a command line that DVC or the shell would read.
import importlib
import json
import os
import signal
import subprocess
import sys
import time

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


def _spec(task):
    with open(_path(".dagshift", "tasks", task + ".json"), encoding="utf-8") as handle:
        return json.load(handle)


def _items(items_spec, params):
    items = params[items_spec["param"]] if isinstance(items_spec, dict) else items_spec
    if not isinstance(items, list):
        raise TypeError("foreach needs a list, got " + type(items).__name__)
    return items


def _keys(items_spec, params):
    """DVC's foreach keys, in order: the index of a literal list (dagshift writes it as a mapping
    from index to item), the item's text for a list param."""
    items = _items(items_spec, params)
    if isinstance(items_spec, dict):
        return [_text(item) for item in items]
    return [str(index) for index in range(len(items))]


def _read(path, kind):
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    text = text[:-1] if text.endswith("\n") else text
    return text if kind == "str" else json.loads(text)


def _output(name, kind, path, items, params):
    """An upstream value: the file its stage wrote, or for a fanned-out stage the list of every
    run's value, in foreach order."""
    if items is None:
        return _read(_path(path), kind)
    return [_read(_path(path, key, name), kind) for key in _keys(items, params)]


def _output_path(task, name, spec, key=None):
    kind, path = spec["outputs"][name]
    if path and key is None:
        return _path(path)
    parts = [".dagshift", "outputs", task] + ([key] if key is not None else []) + [name]
    return _path(*parts)


def _value(spec, params, item, out_paths):
    if isinstance(spec, list):
        return [_value(v, params, item, out_paths) for v in spec]
    if not isinstance(spec, dict):
        return spec
    if "$dagshift" not in spec:
        return dict((k, _value(v, params, item, out_paths)) for k, v in spec.items())
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
    if kind == "item":
        return item if ref[1] is None else item[ref[1]]
    if kind == "out":
        return out_paths[ref[1]]
    raise ValueError("unknown placeholder " + repr(ref))


def _call(target, kwargs):
    module_name, _, function_name = target.partition(":")
    sys.path.insert(0, os.getcwd())
    function = importlib.import_module(module_name)
    for attribute in function_name.split("."):
        function = getattr(function, attribute)
    return function(**kwargs)


def main(*args):
    """Run the task; with retries or a timeout, each attempt is a child process of this one."""
    task, key = args[0], (args[1] if len(args) > 1 else None)
    spec = _spec(task)
    delays = spec.get("retry_delays", [])
    if not delays and "timeout" not in spec:
        return attempt(task, key)
    command = [sys.executable, os.path.abspath(__file__), "--attempt"] + list(args)
    for number in range(len(delays) + 1):
        # Its own process group, so a timeout stops the command and everything it started.
        process = subprocess.Popen(command, start_new_session=True)
        try:
            code = process.wait(timeout=spec.get("timeout"))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            print("dagshift: attempt %d timed out after %s s" % (number + 1, spec["timeout"]), flush=True)
            code = 124
        if code == 0:
            return 0
        if number < len(delays):
            print("dagshift: attempt %d failed (exit %d); retrying in %s s" % (number + 1, code, delays[number]),
                  flush=True)
            time.sleep(delays[number])
    return code


def attempt(task, key=None):
    spec = _spec(task)
    params = _params()
    item = _items(spec["items"], params)[_keys(spec["items"], params).index(key)] if key is not None else None
    outputs = spec.get("outputs", {})
    out_paths = dict((name, _output_path(task, name, spec, key)) for name in outputs)
    for path in out_paths.values():
        os.makedirs(os.path.dirname(path), exist_ok=True)
    env = dict(os.environ)
    env.update((k, _text(_value(v, params, item, out_paths))) for k, v in spec.get("env", {}).items())
    if spec["kind"] == "python":
        os.environ.update(env)
        result = _call(spec["target"], _value(spec["kwargs"], params, item, out_paths))
        for name in outputs:
            value = result if len(outputs) == 1 else result[name]
            with open(out_paths[name], "w", encoding="utf-8", newline="") as handle:
                handle.write(_text(value))
        return 0
    if spec["kind"] == "container":
        workdir = os.getcwd()
        argv = ["docker", "run", "--rm", "-v", workdir + ":" + workdir, "-w", workdir]
        for name in spec.get("env", {}):
            argv += ["-e", name]
        argv += [spec["image"]] + [_text(_value(p, params, item, out_paths)) for p in spec["argv"]]
    elif "argv" in spec:
        argv = [_text(_value(p, params, item, out_paths)) for p in spec["argv"]]
    else:
        # bash, as every target runs shell commands (docs/backends/dvc.md).
        argv = ["bash", "-c", _text(_value(spec["command"], params, item, out_paths))]
    return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["--attempt"]:
        sys.exit(attempt(*sys.argv[2:]))
    sys.exit(main(*sys.argv[1:]))
