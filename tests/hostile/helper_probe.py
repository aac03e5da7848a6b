"""Scenarios of the manifest parse helper with hostile content, each run in a fresh interpreter by the hostile tests.

The helper forks only from a process running a single thread, as ``sovereign check`` is when it starts; a pytest
session may hold other threads, so these run apart: ``python tests/hostile/helper_probe.py SCENARIO DIR`` prints
``ok`` and exits 0 when the scenario holds: whatever the files hold (nested Lists, aliases, bad values) and
wherever they sit, the documents or the error are the sequential load's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import sovereign.check.manifest_parse_helper as parse_helper
import sovereign.process.forked_child as forked_child
from sovereign.check.manifest_parse_helper import ManifestLoad
from sovereign.core import yamlio
from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifests

parse_helper.MIN_HELPER_FILES = 2
ANSWERED: list[bool] = []
"""Whether the child's documents were used, per load."""

_real_helper_documents = ManifestLoad._helper_documents


def _recorded_helper_documents(load: ManifestLoad) -> Any:
    documents = _real_helper_documents(load)
    ANSWERED.append(documents is not None)
    return documents


ManifestLoad._helper_documents = _recorded_helper_documents  # type: ignore[method-assign, assignment]


def outcome(load: Callable[[], Any]) -> Any:
    yamlio.reset_alias_budget()
    try:
        return ("documents", load())
    except InputError as exc:
        return ("error", exc.message)


def with_helper(root: Path) -> Any:
    with ManifestLoad.start(root, helper=True) as load:
        return load.documents()


def config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def write(root: Path, texts: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(texts):
        (root / f"{i:03d}.yaml").write_text(text, encoding="utf-8")
    return root


def nested_list(i: int) -> str:
    inner = {"apiVersion": "v1", "kind": "List", "items": [config_map(f"b{i}"), {"apiVersion": "v1", "kind": "List",
                                                                                 "items": [config_map(f"c{i}")]}]}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [config_map(f"a{i}"), inner]})


def aliased(i: int, width: int = 10, levels: int = 3) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", f"metadata: {{name: alias{i}}}", "lol:",
             "  a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"  a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def lists(root: Path) -> None:
    """Nested Lists everywhere (the child's share included): the same objects, and the child's answer is used;
    a bad nested List in the child's share: the sequential error."""
    good = write(root / "good", [nested_list(i) for i in range(12)])
    sequential = outcome(lambda: load_manifests(good))
    assert sequential[0] == "documents" and len(sequential[1]) == 36, sequential
    assert outcome(lambda: with_helper(good)) == sequential
    assert ANSWERED[-1] is True, ANSWERED
    bad_text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [{"kind": "List", "items": [7]}]})
    bad = write(root / "bad", [nested_list(i) for i in range(11)] + [bad_text])
    sequential = outcome(lambda: load_manifests(bad))
    assert sequential[0] == "error" and "document 1.items[0].items[0]: expected a Kubernetes object" in sequential[1]
    assert outcome(lambda: with_helper(bad)) == sequential


def aliases(root: Path) -> None:
    """The budget of alias expansion is per run: the child's share counts as if this process had parsed it (the
    child leaves a share that expands aliases to this process), so the error, or the documents, are the
    sequential load's."""
    yamlio.reset_alias_budget()
    yamlio.parse_yaml_documents(aliased(0), "one")
    per_doc = yamlio.alias_expansion_used()  # nodes one aliased() document adds
    budget = yamlio.MAX_ALIAS_EXPANSION_PER_RUN
    fits = budget // per_doc
    files = [aliased(i) for i in range(fits)]  # every file alone within the file budget; all of them within the run
    ok = write(root / "ok", files)
    sequential = outcome(lambda: load_manifests(ok))
    assert sequential[0] == "documents", sequential
    assert outcome(lambda: with_helper(ok)) == sequential
    over = write(root / "over", [*files, aliased(fits)])  # one more: over the run's budget, in the child's share
    sequential = outcome(lambda: load_manifests(over))
    assert sequential[0] == "error" and "this run" in sequential[1], sequential
    assert outcome(lambda: with_helper(over)) == sequential


SCENARIOS: dict[str, Callable[[Path], None]] = {"lists": lists, "aliases": aliases}


if __name__ == "__main__":
    assert forked_child.can_fork(), "the probe must be able to fork"
    SCENARIOS[sys.argv[1]](Path(sys.argv[2]))
    print("ok")
