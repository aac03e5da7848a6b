"""Drive network-config-analyzer (NCA) through its Python API as an independent oracle.

NCA's CLI has no machine-readable per-pair output, so we load the same manifests with its ResourcesHandler,
ask the NetworkConfig for all allowed connections and flatten its hypercubes into
``{(source workload, destination, protocol): port ranges}``; destinations are workload refs or IPv4 ranges.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

PROTOCOL_NUMBERS = {6: "TCP", 17: "UDP", 132: "SCTP"}
Flat = dict[tuple[str, str, str], list[tuple[int, int]]]
"""(source ref, destination ref or ``ip:<lo>-<hi>``, protocol) -> port ranges."""


def available() -> bool:
    try:
        import nca  # noqa: F401
    except ImportError:
        return False
    return True


def _ref(peer: Any) -> str:
    ns = peer.namespace.name if peer.namespace else ""
    owner = getattr(peer, "owner_name", "") or ""
    return f"{ns}/{owner or peer.name}"


def _write(path: Path, objects: Iterable[Mapping[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(list(objects), sort_keys=True))


def _api_defaults(policy: Mapping[str, Any]) -> dict[str, Any]:
    """Hand NCA the object as the API server stores it (documented in docs/connectivity.md):

    - NCA rejects a policy without ``spec.podSelector``; the API server reads it as ``{}``.
    - NCA infers Egress from a present-but-empty ``egress: []``; upstream defaulting adds Egress only
      when there are egress rules (``len(spec.Egress) != 0``). We write the defaulted policyTypes.
    - NCA rejects rules of a direction missing from policyTypes; the API server keeps and ignores them.
    """
    out = dict(policy)
    spec = dict(out.get("spec") or {})
    spec.setdefault("podSelector", {})
    types = list(spec.get("policyTypes") or [])
    if not types:
        types = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    spec["policyTypes"] = types
    for direction in ("ingress", "egress"):
        if direction.capitalize() not in types:
            spec.pop(direction, None)
    out["spec"] = spec
    return out


def _pod_label_values(objects: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for o in objects:
        if o.get("kind") == "Pod":
            labels = (o.get("metadata") or {}).get("labels") or {}
        elif o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            labels = (((o.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        else:
            continue
        for k, v in labels.items():
            values.setdefault(k, set()).add(v)
    return values


def _without_key_operators(selector: Any, values: Mapping[str, set[str]]) -> Any:
    """NCA evaluates ``Exists``/``DoesNotExist`` pod-selector requirements in the policy's namespace only,
    even inside a peer that also has a namespaceSelector (PeerContainer.get_peers_with_key is called with
    the policy namespace). Over a given cluster, ``Exists k`` is exactly ``In [values of k]`` and
    ``DoesNotExist k`` exactly ``NotIn [values of k]``, which NCA handles correctly."""
    if not isinstance(selector, dict) or not selector.get("matchExpressions"):
        return selector
    exprs = []
    for e in selector["matchExpressions"]:
        if e.get("operator") in ("Exists", "DoesNotExist"):
            present = sorted(values.get(e["key"], set())) or ["nca-oracle-no-such-value"]
            e = {"key": e["key"], "operator": "In" if e["operator"] == "Exists" else "NotIn", "values": present}
        exprs.append(e)
    return {**selector, "matchExpressions": exprs}


def _rewrite_peers(policy: dict[str, Any], values: Mapping[str, set[str]]) -> dict[str, Any]:
    spec = dict(policy["spec"])
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if not rules:
            continue
        new_rules = []
        for rule in rules:
            rule = dict(rule)
            if rule.get(key):
                rule[key] = [
                    {**peer, "podSelector": _without_key_operators(peer["podSelector"], values)}
                    if isinstance(peer, dict) and "podSelector" in peer
                    else peer
                    for peer in rule[key]
                ]
            new_rules.append(rule)
        spec[direction] = new_rules
    return {**policy, "spec": spec}


def connectivity(objects: Sequence[Mapping[str, Any]], workdir: Path) -> Flat:
    """Allowed TCP/UDP/SCTP connections per source workload, as NCA computes them."""
    from nca.CoreDS.Peer import BasePeerSet, IpBlock, Pod
    from nca.NetworkConfig.ResourcesHandler import ResourcesHandler
    from nca.Resources.PolicyResources.NetworkPolicy import PolicyConnectionsFilter

    values = _pod_label_values(objects)
    policies = [_rewrite_peers(_api_defaults(o), values) for o in objects if o.get("kind") == "NetworkPolicy"]
    resources = [o for o in objects if o.get("kind") != "NetworkPolicy"]
    pol_file, res_file = workdir / "policies.yaml", workdir / "resources.yaml"
    _write(pol_file, policies)
    _write(res_file, resources)
    BasePeerSet.reset()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cfg = ResourcesHandler().get_network_config([str(pol_file)], None, None, [str(res_file)])
        conns = cfg.allowed_connections(
            res_conns_filter=PolicyConnectionsFilter.only_all_allowed_connections()
        ).all_allowed_conns
    out: dict[tuple[str, str, str], set[tuple[int, int]]] = {}
    for cube in conns:
        cc = conns.get_connectivity_cube(cube)
        srcs = [p for p in cc["src_peers"].split() if isinstance(p, Pod)]
        if not srcs:
            continue
        dsts: list[str] = []
        for p in cc["dst_peers"].split():
            if isinstance(p, Pod):
                dsts.append(_ref(p))
            elif isinstance(p, IpBlock):
                for iv in p:
                    lo, hi = int(iv.start), int(iv.end)
                    if hi < 2**32:  # IPv4 only: NCA drops IPv6 unless policies name it
                        dsts.append(f"ip:{lo}-{hi}")
        protocols = [
            PROTOCOL_NUMBERS[n] for iv in cc["protocols"] for n in range(iv.start, iv.end + 1) if n in PROTOCOL_NUMBERS
        ]
        ports = [(iv.start, iv.end) for iv in cc["dst_ports"].port_set]
        for s in srcs:
            sref = _ref(s)
            for d in dsts:
                if d == sref:
                    continue
                for proto in protocols:
                    out.setdefault((sref, d, proto), set()).update(ports)
    return {k: sorted(v) for k, v in out.items()}
