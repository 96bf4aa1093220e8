# homelab-lsp plugin worker: runs a makejinja project's plugins through makejinja's own code
# and answers the language server over stdin/stdout, one JSON object per line.
#
# Requests:  {"op": "load"}                      -> data, names, path-filter exclusions
#            {"op": "call", "kind": "filter"|"function"|"test", "name": N, "args": [...],
#             "kwargs": {...}}                   -> {"value": ...}
# Replies:   {"ok": true, ...} or {"ok": false, "error": {...}}
# The working directory is the project root (makejinja resolves its paths from there).
import builtins
import io
import json
import os
import sys
import traceback

PROTOCOL = 1
TAG = "__hl__"
_out = sys.stdout
sys.stdout = sys.stderr  # plugins that print must not corrupt the protocol

import makejinja.app as mj  # noqa: E402
import typed_settings as ts  # noqa: E402
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_NAMESPACE, DEFAULT_TESTS  # noqa: E402
from makejinja.cli import _ts_loaders  # noqa: E402
from makejinja.config import Config  # noqa: E402


class Handles:
    """Python objects without a JSON form, kept so they can be passed back to plugins."""

    def __init__(self):
        self.objects = []
        self.generation = 0

    def reset(self):
        self.objects = []
        self.generation += 1

    def add(self, obj):
        self.objects.append(obj)
        return len(self.objects) - 1

    def get(self, ref):
        if ref.get("g") != self.generation:
            raise RuntimeError("a value from before the last reload was passed to the plugin")
        return self.objects[ref["id"]]


handles = Handles()


def encode(v, depth=0):
    if depth > 64:
        return None
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else {TAG: "int", "v": str(v)}
    if isinstance(v, float):
        return {TAG: "float", "v": repr(v)} if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(v, dict) or (hasattr(v, "keys") and hasattr(v, "__getitem__") and not isinstance(v, type)):
        try:
            items = [(k, v[k]) for k in v.keys()]
        except Exception:
            return opaque(v)
        if all(isinstance(k, str) and k != TAG for k, _ in items) and type(v) is dict:
            return {k: encode(x, depth + 1) for k, x in items}
        return {TAG: "dict", "v": [[encode(k, depth + 1), encode(x, depth + 1)] for k, x in items], "repr": safe_repr(v)}
    if isinstance(v, (list, tuple)):
        seq = [encode(x, depth + 1) for x in v]
        if type(v) is list:
            return seq
        return {TAG: "tuple" if isinstance(v, tuple) else "list", "v": seq, "repr": safe_repr(v)}
    return opaque(v)


def safe_repr(v):
    try:
        return repr(v)
    except Exception as e:  # a broken __repr__ must not break the worker
        return "<repr failed: %s>" % e


def opaque(v):
    try:
        text = str(v)
    except Exception as e:
        text = "<str failed: %s>" % e
    return {TAG: "obj", "id": handles.add(v), "g": handles.generation, "str": text, "repr": safe_repr(v), "type": type(v).__name__}


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        tag = v.get(TAG)
        if tag is None:
            return {k: decode(x) for k, x in v.items()}
        if tag == "obj":
            return handles.get(v)
        if tag == "int":
            return int(v["v"])
        if tag == "float":
            return float(v["v"])
        if tag == "tuple":
            return tuple(decode(x) for x in v["v"])
        if tag == "dict":
            return {decode(k): decode(x) for k, x in v["v"]}
        if tag == "undefined":
            return env.undefined(name=v.get("name"))
    return v


def error_of(exc):
    frames = [[f.filename, f.lineno, f.name] for f in traceback.extract_tb(exc.__traceback__)]
    err = {"type": type(exc).__name__, "message": str(exc), "frames": frames}
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":
        try:
            err["locs"] = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errors()]
        except Exception:
            pass
    return err


env = None
plugins = []


def forget_project_modules():
    # Re-import the repo's own modules on every load, so an edited plugin takes effect; the
    # libraries it imports (pydantic, netaddr...) stay loaded, which is what keeps this fast.
    root = os.getcwd() + os.sep
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None) or ""
        if path.startswith(root) and "site-packages" not in path:
            del sys.modules[name]


def with_overlay(overlay):
    # Unsaved editor texts: while makejinja loads data and the plugins run, opening one of
    # these files for reading gives the editor's text instead of the disk's. Covers makejinja's
    # data loaders and plugins that read their own files (`cluster.toml`) alike.
    real_open = builtins.open

    def overlay_open(file, mode="r", *args, **kwargs):
        if overlay and isinstance(file, (str, os.PathLike)) and not any(c in mode for c in "wax+"):
            text = overlay.get(os.path.realpath(os.fspath(file)))
            if text is not None:
                return io.BytesIO(text.encode()) if "b" in mode else io.StringIO(text)
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = overlay_open
    return real_open


def load(req):
    handles.reset()
    forget_project_modules()
    real_open = with_overlay(req.get("overlay") or {})
    try:
        return load_project()
    finally:
        builtins.open = io.open = real_open


def load_project():
    global env, plugins
    defaults = ts.loaders.DictLoader({"output": os.devnull})
    config = ts.load_settings(Config, [defaults, *_ts_loaders])
    for path in config.import_paths:
        p = str(path.resolve())
        if p not in sys.path:
            sys.path.append(p)
    data = mj.load_data(config)
    new_env = mj.init_jinja_env(config, data)
    new_plugins = [mj.load_plugin(name, new_env, data, config) for name in (*config.plugins, *config.loaders)]
    env, plugins = new_env, new_plugins
    excluded = []
    filters = [f for p in plugins if hasattr(p, "path_filters") for f in p.path_filters()]
    if filters:
        for base in config.inputs:
            if not base.is_dir():
                continue
            for pattern in config.include_patterns:
                for path in sorted(base.glob(pattern)):
                    if not all(f(path) for f in filters):
                        excluded.append(str(path.resolve()))
    values, functions = {}, []
    for k, v in env.globals.items():
        if k == "env" or (k in DEFAULT_NAMESPACE and DEFAULT_NAMESPACE[k] is v):
            continue
        if callable(v) and not isinstance(v, type):
            functions.append(k)
        else:
            values[k] = encode(v)
    return {
        "data": values,
        "functions": functions,
        "filters": [k for k, f in env.filters.items() if DEFAULT_FILTERS.get(k) is not f],
        "tests": [k for k, f in env.tests.items() if DEFAULT_TESTS.get(k) is not f],
        "excluded": excluded,
    }


def call(req):
    if env is None:
        raise RuntimeError("the project is not loaded")
    kind, name = req["kind"], req["name"]
    args = decode(req.get("args", []))
    kwargs = decode(req.get("kwargs", {}))
    if kind == "filter":
        value = env.call_filter(name, args[0] if args else None, args[1:], kwargs)
    elif kind == "test":
        value = bool(env.call_test(name, args[0] if args else None, args[1:], kwargs))
    else:
        value = env.globals[name](*args, **kwargs)
    return {"value": encode(value)}


OPS = {"load": load, "call": call}


def main():
    _out.write(json.dumps({"ok": True, "ready": PROTOCOL, "python": sys.version.split()[0]}) + "\n")
    _out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            reply = {"ok": True, **OPS[req["op"]](req)}
        except Exception as exc:
            reply = {"ok": False, "error": error_of(exc)}
        _out.write(json.dumps(reply) + "\n")
        _out.flush()


main()
