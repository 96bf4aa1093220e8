"""makejinja plugin for the `cluster-template-bootstrap` corpus (2025 layout).

Written for homelab-lsp's golden tests from the behaviour table in
docs/makejinja.md; it is not the upstream plugin.

Provides:
  filters    basename, nthhost (netaddr variant)
  functions  talos_patches(kind)
  path filter: a directory holding `.mjfilter.py` is skipped when that
               module's `main(data)` is falsy.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import netaddr

TALOS_PATCHES_DIR = Path("bootstrap/templates/kubernetes/bootstrap/talos/patches")


def basename(value: str) -> str:
    """File name without its last suffix: `a/b/x.yaml.j2` -> `x.yaml`."""
    return Path(value).stem


def nthhost(value: str, query: Any) -> Any:
    """n-th address of a network (netaddr).

    Out of range -> the network object itself; non-integer -> False.
    """
    network = netaddr.IPNetwork(value)
    try:
        n = int(query)
    except (TypeError, ValueError):
        return False
    if n < network.size:
        return str(network[n])
    return network


def talos_patches(kind: str) -> list[str]:
    directory = TALOS_PATCHES_DIR / kind
    if not directory.is_dir():
        return []
    return [str(path) for path in sorted(directory.glob("*.yaml.j2"))]


def _load_mjfilter(path: Path):
    spec = importlib.util.spec_from_file_location(f"mjfilter_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


class Plugin:
    def __init__(self, data: dict[str, Any], config: Any) -> None:
        self._data = data
        self._config = config
        self._decisions: dict[Path, bool] = {}

    def filters(self):
        return [basename, nthhost]

    def functions(self):
        return [talos_patches]

    def path_filters(self):
        return [self._mjfilter]

    def _dir_allowed(self, directory: Path) -> bool:
        if directory not in self._decisions:
            filter_file = directory / ".mjfilter.py"
            allowed = True
            if filter_file.is_file():
                allowed = bool(_load_mjfilter(filter_file)(self._data))
            self._decisions[directory] = allowed
        return self._decisions[directory]

    def _mjfilter(self, path: Path) -> bool:
        # The path itself (when a directory) and every ancestor up to the
        # input directory must pass their .mjfilter.py, if any.
        roots = [Path(p) for p in self._config.inputs]
        candidates = [path] if path.is_dir() else []
        for parent in path.parents:
            candidates.append(parent)
            if parent in roots:
                break
        return all(self._dir_allowed(d) for d in candidates)
