"""Alias expansion is bounded per document, per file and per run (sovereign/core/yamlio.py).

A YAML anchor can be referenced many times; the parser shares the value, but everything downstream (the policy
pack's encoding, every rule's walk) pays for the expanded tree. Per document the bound is
``MAX_ALIAS_EXPANSION`` (RT-6); 1,000 documents that each stay under it still made ``sovereign check`` take half a
minute and 2.8 GB (11 million nodes). The file and the run (every file one command reads) have budgets too:
exceeding one is bad input naming the file and the document. Timings belong to the benchmarks; these tests check
the outcome.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hostile_support import assert_bad_input, run_bounded, write_bytes

from sovereign.core import yamlio
from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifests
from sovereign.core.yamlio import parse_yaml_documents

NAMESPACE = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"
             "  labels: {sovereign-clusters.dev/jurisdiction: cn}\n")


def aliased(i: int, width: int = 10, levels: int = 3) -> str:
    """A ConfigMap whose ``lol`` expands to width**(levels+1) scalars through aliases (about 11,100 nodes)."""
    lines = ["apiVersion: v1", "kind: ConfigMap", f"metadata: {{name: lol{i}, namespace: default}}", "lol:",
             "  a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"  a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def many(count: int) -> str:
    return NAMESPACE + "".join("---\n" + aliased(i) for i in range(count))


def added_by_one_document() -> int:
    yamlio.reset_alias_budget()
    parse_yaml_documents(aliased(0), "one")
    used = yamlio.alias_expansion_used()
    yamlio.reset_alias_budget()
    return used


def test_one_aliased_document_is_within_every_budget() -> None:
    per_doc = added_by_one_document()
    assert 10_000 < per_doc < yamlio.MAX_ALIAS_EXPANSION
    [doc] = parse_yaml_documents(aliased(0), "one")
    assert len(doc["lol"]["a3"]) == 10


def test_a_thousand_aliased_documents_in_one_file_are_refused_naming_the_document(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "many.yaml", many(1000))
    with pytest.raises(InputError) as info:
        load_manifests(path)
    first_over = yamlio.MAX_ALIAS_EXPANSION_PER_FILE // added_by_one_document() + 1  # aliased documents
    message = info.value.message
    assert message.startswith(f"{path}: document {first_over + 1}: expected aliases that add at most "
                              f"{yamlio.MAX_ALIAS_EXPANSION_PER_FILE} nodes in one file"), message


def test_the_cli_refuses_a_thousand_aliased_documents(tmp_path: Path) -> None:
    """Before: exit 1 after about 28 s and 2.8 GB (the pack encoded and walked 11 million nodes). In a bounded
    child process (3 GiB, 300 s) so that a regression fails this test, not the suite."""
    path = write_bytes(tmp_path / "many.yaml", many(1000))
    out = tmp_path / "out" / "report.json"
    result = run_bounded([sys.executable, "-m", "sovereign", "check", "--manifests", str(path), "--jurisdiction",
                          "cn", "--format", "json", "--output", str(out)], timeout=300)
    assert result is not None, "sovereign check on 1,000 aliased documents ran > 300 s"
    assert_bad_input(result, "check", not_written=[out, out.parent])
    assert f"{path}: document " in result.stderr and "nodes in one file" in result.stderr, result.stderr


def test_the_run_budget_spans_files(tmp_path: Path) -> None:
    """Files that each stay within the file budget, read by one command: the file that takes the run over its
    budget is named, with its document."""
    per_doc = added_by_one_document()
    per_file = yamlio.MAX_ALIAS_EXPANSION_PER_FILE // per_doc  # documents that fit one file
    files = -(-yamlio.MAX_ALIAS_EXPANSION_PER_RUN // (per_file * per_doc)) + 1
    directory = tmp_path / "m"
    for f in range(files):
        write_bytes(directory / f"{f:02d}.yaml", "---\n".join(aliased(f * 1000 + i) for i in range(per_file)))
    with pytest.raises(InputError) as info:
        load_manifests(directory)
    message = info.value.message
    over = yamlio.MAX_ALIAS_EXPANSION_PER_RUN // per_doc + 1  # the document (counted over all files) that is over
    assert message.startswith(f"{directory / f'{(over - 1) // per_file:02d}.yaml'}: "
                              f"document {(over - 1) % per_file + 1}: expected aliases that add at most "
                              f"{yamlio.MAX_ALIAS_EXPANSION_PER_RUN} nodes in all the files this run reads"), message
    # Each file alone is fine, and a new run starts with the whole budget.
    yamlio.reset_alias_budget()
    assert len(load_manifests(directory / "00.yaml")) == per_file


def test_refused_files_and_aliasless_files_spend_nothing(tmp_path: Path) -> None:
    yamlio.reset_alias_budget()
    parse_yaml_documents("a: [1, 2, {b: c}]\n---\nx: y\n", "plain")
    assert yamlio.alias_expansion_used() == 0
    with pytest.raises(InputError):
        parse_yaml_documents(many(1000), "refused")
    assert yamlio.alias_expansion_used() == 0


def test_stack_files_spend_the_same_run_budget(tmp_path: Path) -> None:
    """Every YAML input (manifests, stack files, the catalog) is read through the same parser and budget."""
    per_doc = added_by_one_document()
    while yamlio.alias_expansion_used() + per_doc <= yamlio.MAX_ALIAS_EXPANSION_PER_RUN:
        parse_yaml_documents(aliased(0), "manifest.yaml")
    path = write_bytes(tmp_path / "Pulumi.x.yaml", aliased(0))
    with pytest.raises(InputError) as info:
        yamlio.load_yaml_file(path)
    assert info.value.message.startswith(f"{path}: document 1: expected aliases that add at most "
                                         f"{yamlio.MAX_ALIAS_EXPANSION_PER_RUN} nodes in all the files this run "
                                         "reads"), info.value.message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper forks on Linux only")
def test_the_parse_helper_counts_the_childs_share(tmp_path: Path) -> None:
    import subprocess

    probe = Path(__file__).resolve().parent / "helper_probe.py"
    done = subprocess.run([sys.executable, str(probe), "aliases", str(tmp_path)], capture_output=True, text=True,
                          timeout=600, check=False, cwd=probe.parent)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
