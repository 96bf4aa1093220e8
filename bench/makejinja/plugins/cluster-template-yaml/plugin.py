"""makejinja plugin for the `cluster-template-yaml` corpus (2026 layout).

Written for homelab-lsp's golden tests from the behaviour table in
docs/makejinja.md; it is not the upstream plugin.

Provides:
  filters    basename, nthhost (ipaddress variant)
  functions  age_key, cloudflare_tunnel_id, cloudflare_tunnel_secret,
             github_deploy_key, github_push_token, talos_patches
  data()     defaults for keys absent from cluster.yaml / nodes.yaml
  path filter: a directory holding `.mjfilter.py` is skipped when that
               module's `main(data)` is falsy (no such file in this corpus).

Key files are read relative to the working directory (the repo root).
"""

from __future__ import annotations

import base64
import importlib.util
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

TALOS_PATCHES_DIR = Path("templates/config/talos/patches")


def basename(value: str) -> str:
    """File name without its last suffix: `a/b/x.yaml.j2` -> `x.yaml`."""
    return Path(value).stem


def nthhost(value: str, query: Any) -> Any:
    """n-th address of a network (ipaddress); False when out of range or invalid."""
    try:
        network = ipaddress.ip_network(value, strict=False)
        n = int(query)
        if 0 <= n < network.num_addresses:
            return str(network[n])
    except (TypeError, ValueError):
        return False
    return False


def talos_patches(kind: str) -> list[str]:
    directory = TALOS_PATCHES_DIR / kind
    if not directory.is_dir():
        return []
    return [str(path) for path in sorted(directory.glob("*.yaml.j2"))]


def age_key(key_type: str, file: str = "age.key") -> str:
    text = Path(file).read_text()
    if key_type == "public":
        match = re.search(r"#\s*public key:\s*(age1[0-9a-z]+)", text)
    elif key_type == "private":
        match = re.search(r"(AGE-SECRET-KEY-[0-9A-Z]+)", text)
    else:
        raise ValueError(f"age_key: unknown key type {key_type!r}")
    if match is None:
        raise ValueError(f"age_key: no {key_type} key in {file}")
    return match.group(1)


def _tunnel(file: str) -> dict[str, Any]:
    return json.loads(Path(file).read_text())


def cloudflare_tunnel_id(file: str = "cloudflare-tunnel.json") -> str:
    return _tunnel(file)["TunnelID"]


def cloudflare_tunnel_secret(file: str = "cloudflare-tunnel.json") -> str:
    tunnel = _tunnel(file)
    token = {"a": tunnel["AccountTag"], "t": tunnel["TunnelID"], "s": tunnel["TunnelSecret"]}
    return base64.b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()


def github_deploy_key(file: str = "github-deploy.key") -> str:
    return Path(file).read_text().strip()


def github_push_token(file: str = "github-push-token.txt") -> str:
    return Path(file).read_text().strip()


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

    def data(self) -> dict[str, Any]:
        data = self._data
        defaults: dict[str, Any] = {
            "node_default_gateway": lambda: nthhost(data.get("node_cidr"), 1),
            "node_dns_servers": lambda: ["1.1.1.1", "1.0.0.1"],
            "node_ntp_servers": lambda: ["162.159.200.1", "162.159.200.123"],
            "cluster_pod_cidr": lambda: "10.42.0.0/16",
            "cluster_svc_cidr": lambda: "10.43.0.0/16",
            "repository_branch": lambda: "main",
            "repository_visibility": lambda: "public",
            "cilium_loadbalancer_mode": lambda: "dsr",
            "cilium_bgp_enabled": lambda: all(
                data.get(key)
                for key in ("cilium_bgp_router_addr", "cilium_bgp_router_asn", "cilium_bgp_node_asn")
            ),
            "spegel_enabled": lambda: len(data.get("nodes") or []) > 1,
        }
        return {key: make() for key, make in defaults.items() if key not in data}

    def filters(self):
        return [basename, nthhost]

    def functions(self):
        return [
            age_key,
            cloudflare_tunnel_id,
            cloudflare_tunnel_secret,
            github_deploy_key,
            github_push_token,
            talos_patches,
        ]

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
        roots = [Path(p) for p in self._config.inputs]
        candidates = [path] if path.is_dir() else []
        for parent in path.parents:
            candidates.append(parent)
            if parent in roots:
                break
        return all(self._dir_allowed(d) for d in candidates)
