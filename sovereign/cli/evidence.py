"""``sovereign evidence``: a signed bundle a regulator can verify offline (docs/evidence.md).

Three forms, told apart by the first word:

* ``sovereign evidence STACK…|--all --out DIR [--at DATE] [--key PRIVATE_KEY] [--policy-pack-config FILE]``
  renders and checks each stack exactly as ``sovereign check STACK`` does and writes its bundle (several stacks:
  ``DIR/<stack>/``);
* ``sovereign evidence verify DIR --key PUBLIC_KEY`` checks the signature and every digest, then renders and
  checks the bundled inputs again and compares;
* ``sovereign evidence keygen --out DIR [--force]`` writes an Ed25519 key pair.

The work is ``sovereign.evidence``'s; this module runs the check (``sovereign.cli.check.build_report``, the one
way a check report is made) for it, at creation and at verification.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sovereign.cli import exitcodes
from sovereign.cli.organisation import add_organisation_flag, warn_if_example
from sovereign.core.clock import AT_ENV
from sovereign.core.errors import InputError

if TYPE_CHECKING:
    from sovereign.check.model import CheckReport
    from sovereign.evidence.derive import Derived
    from sovereign.evidence.verify import Request

KEY_ENV = "SOVEREIGN_EVIDENCE_KEY"
"""The private key file when ``--key`` is not given (as CI passes a signing key: a secret file's path)."""
ACTIONS = ("verify", "keygen")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evidence",
        help="write a signed evidence bundle of a stack, verify one offline, or make a signing key pair",
        usage="sovereign evidence STACK...|--all --out DIR [--at DATE] [--key PRIVATE_KEY] "
        "[--policy-pack-config FILE]\n       sovereign evidence verify DIR --key PUBLIC_KEY\n"
        "       sovereign evidence keygen --out DIR [--force]",
        description="Write, per stack, a bundle of its inputs (stack file with secrets redacted, both catalog "
        "layers, the policy pack config with its exemptions), the rendered manifests' digests, the full policy "
        "results, the connectivity proof's summary, the data-flow register, tool and pack versions and the git commit, "
        "as an in-toto "
        "Statement signed with Ed25519 in a DSSE envelope. `verify` checks the signature and every digest and "
        "derives the verdict again from the bundled inputs. Exit status: 0 written / verified, 1 not verified, "
        "2 bad input (nothing written).",
    )
    parser.add_argument("words", nargs="*", metavar="STACK | verify DIR | keygen",
                        help="stack name(s); or `verify DIR`; or `keygen`")
    parser.add_argument("--all", action="store_true", help="a bundle for every stack, in DIR/<stack>/")
    parser.add_argument("--out", type=Path, help="the bundle's directory (several stacks: one per stack inside "
                        "it); keygen: the key pair's directory")
    parser.add_argument("--at", help=f"evaluation time (ISO 8601; default ${AT_ENV}): required, the bundle "
                        "states it and is reproducible only with it")
    parser.add_argument("--key", type=Path, help=f"Ed25519 PEM key: the private key to sign with (default "
                        f"${KEY_ENV}); verify: the public key")
    parser.add_argument("--policy-pack-config", type=Path, help="policy settings as `sovereign check` takes them "
                        "(exemptions and carve-outs included in the bundle)")
    parser.add_argument("--force", action="store_true", help="keygen: replace an existing key pair")
    add_organisation_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    words: list[str] = list(args.words)
    if words and words[0] == "verify":
        _refuse(args, ("--all", "--at", "--out", "--policy-pack-config", "--force"), "verify")
        return _verify(words[1:], args.key)
    if words and words[0] == "keygen":
        _refuse(args, ("--all", "--at", "--key", "--policy-pack-config"), "keygen")
        return _keygen(words[1:], args.out, force=args.force)
    if args.force:
        raise InputError("command line", ("--force",), "--force with keygen only", found_text="--force")
    return _create(args)


def _refuse(args: argparse.Namespace, flags: tuple[str, ...], action: str) -> None:
    for flag in flags:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value not in (None, False):
            raise InputError("command line", (flag,), f"no {flag} with `evidence {action}`", found_text=str(value))


# ------------------------------------------------------------------------------------------------ keygen
def _keygen(extra: list[str], out: Path | None, *, force: bool) -> int:
    from sovereign.evidence.keys import generate_key_pair

    if extra:
        raise InputError("command line", ("keygen",), "no argument after keygen", found_text=" ".join(extra))
    if out is None:
        raise InputError("command line", ("--out",), "the directory for the key pair", found_text="nothing")
    private, public = generate_key_pair(out, force=force)
    print(f"private key (keep it secret, mode 0600): {private}")
    print(f"public key (give it to whoever verifies): {public}")
    return exitcodes.CLEAN


# ------------------------------------------------------------------------------------------------ the check
def check_stack(stack: str, render_dir: Path, at: str, *, policy_config: Path | None = None,
                policy_pack: Path | None = None) -> CheckReport:
    """``sovereign check STACK --render-dir DIR --at AT``'s report, made by check's own parser and builder; a stack
    whose input cannot be read is bad input here (a bundle of an unjudged stack would attest nothing)."""
    from sovereign.cli import check
    from sovereign.cli.progress import Progress

    parser = argparse.ArgumentParser(prog="sovereign")
    check.register(parser.add_subparsers(dest="command"))
    argv = ["check", stack, "--render-dir", str(render_dir), "--at", at]
    for flag, value in (("--policy-pack-config", policy_config), ("--policy-pack", policy_pack)):
        if value is not None:
            argv += [flag, str(value)]
    args = parser.parse_args(argv)
    report = check.build_report(args, Progress.from_args(args))
    if report.bad_input:
        problems = [v for s in report.stacks if not s.judged for v in s.violations]
        raise InputError(problems[0].source or stack, (), f"a stack that renders and checks (stack {stack})",
                         found_text="; ".join(f"line {v.line}: {v.message}" for v in problems)[:2000])
    return report


# ------------------------------------------------------------------------------------------------ create
def _create(args: argparse.Namespace) -> int:
    from sovereign.cli.render import selected_stacks, validated_at

    at = validated_at(args.at or os.environ.get(AT_ENV))
    if not at:
        raise InputError("command line", ("--at",), f"an evaluation time (--at or ${AT_ENV}): a bundle states "
                         "when it was judged, and only a fixed time makes it reproducible", found_text="nothing")
    if args.out is None:
        raise InputError("command line", ("--out",), "the bundle's directory", found_text="nothing")
    key_path = args.key or (Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else None)
    if key_path is None:
        raise InputError("command line", ("--key",), f"the organisation's Ed25519 private key (--key or ${KEY_ENV}; "
                         "`sovereign evidence keygen` makes one)", found_text="nothing")
    from sovereign.evidence.keys import load_private_key

    key = load_private_key(key_path)
    args.stacks = args.words
    stacks = selected_stacks(args)
    warn_if_example("evidence", stacks=stacks)
    bundles = {}
    for stack in stacks:  # every bundle made before any is written: bad input in one stack writes nothing
        out = args.out if len(stacks) == 1 and not args.all else args.out / stack.replace("/", "-")
        bundles[out] = _bundle(stack, at, args.policy_pack_config, key)
    from sovereign.evidence.bundle import write_bundle

    for out, (files, line) in bundles.items():
        write_bundle(out, files)
        print(f"{out}: {line}")
    return exitcodes.CLEAN


def _bundle(stack: str, at: str, policy_config: Path | None, key: object) -> tuple[dict[str, bytes], str]:
    """(files, verdict line) of one stack's bundle."""
    from sovereign.analyzer.config import read_policy_pack_config
    from sovereign.catalog import default_catalog
    from sovereign.check.repository_paths import repository_root
    from sovereign.core import paths
    from sovereign.evidence import inputs as bundled
    from sovereign.evidence.bundle import BundleFacts, bundle_contents, git_state
    from sovereign.evidence.derive import derive
    from sovereign.render.project import load_project
    from sovereign.render.runner import stack_dir_name

    root = paths.project_root()
    project = load_project(root)
    with tempfile.TemporaryDirectory(prefix="sovereign-evidence-") as tmp:
        report = check_stack(stack, Path(tmp), at, policy_config=policy_config)
        catalog = default_catalog()
        derived = derive(report, Path(tmp) / stack_dir_name(stack), catalog, at)
    config = read_policy_pack_config(policy_config) if policy_config is not None else {}
    items = [bundled.stack_input(project.stack_file(stack), root),
             *bundled.catalog_inputs(paths.catalog_dir(), catalog),
             bundled.organisation_input(paths.organisation_file(), catalog, root, paths.data_root())]
    if policy_config is not None:
        items.append(bundled.policy_config_input(policy_config, root, config))
    repository = repository_root(root)
    facts = BundleFacts(
        stack=stack, at=at,
        policy_pack={"name": report.pack_name, "version": report.pack_version},
        catalog=report.summary()["catalog"],
        project={"name": project.name, "directory": _inside(root, repository)},
        git=git_state(root),
        exemptions=bundled.exemptions(config),
    )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert isinstance(key, Ed25519PrivateKey)
    return bundle_contents(facts, items, derived, key), derived.verdict["line"]


def _inside(root: Path, repository: Path) -> str:
    """The project's directory inside its repository ("" at its root), POSIX."""
    relative = root.resolve().relative_to(repository).as_posix()
    return "" if relative == "." else relative


# ------------------------------------------------------------------------------------------------ verify
def _verify(words: list[str], key_path: Path | None) -> int:
    from sovereign.evidence.keys import load_public_key
    from sovereign.evidence.verify import verify_bundle

    if len(words) != 1:
        raise InputError("command line", ("verify",), "one bundle directory: verify DIR",
                         found_text=" ".join(words) or "nothing")
    directory = Path(words[0])
    if not directory.is_dir():
        raise InputError(directory, (), "an evidence bundle directory", found_text="no such directory"
                         if not directory.exists() else "not a directory")
    if key_path is None:
        raise InputError("command line", ("--key",), "the organisation's Ed25519 public key (PEM)",
                         found_text="nothing")
    key = load_public_key(key_path)
    tool = _tool_root()
    outcome = verify_bundle(directory, key, lambda request: _rederive(request, tool))
    for problem in outcome.problems:
        print(f"{directory}/{problem.line()}")
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if outcome.verified:
        print(f"{directory}: VERIFIED: stack {outcome.stack}: {outcome.verdict}")
        return exitcodes.CLEAN
    print(f"{directory}: NOT VERIFIED: {len(outcome.problems)} problem(s)")
    return exitcodes.VIOLATIONS


def _tool_root() -> Path:
    """The program and pack the verifier runs: the project it runs in, else the installed copy."""
    from sovereign.core import paths

    try:
        return paths.project_root()
    except paths.NoProjectError:
        return paths.installed_root()


def _rederive(request: Request, tool: Path) -> Derived:
    """Render and check the bundled stack file with the bundled catalog layers and policy config, in a workspace
    of the verifier's program and pack; the derived documents of that run."""
    from sovereign.catalog import default_catalog
    from sovereign.evidence.derive import derive
    from sovereign.evidence.workspace import workspace
    from sovereign.render.runner import stack_dir_name

    with workspace(tool, request.inputs, request.project_dir) as ws, \
            tempfile.TemporaryDirectory(prefix="sovereign-verify-") as tmp:
        report = check_stack(request.stack, Path(tmp), request.at, policy_config=ws.policy_config,
                             policy_pack=tool / "policies")  # the workspace's policies/ holds the bundled catalog
        return derive(report, Path(tmp) / stack_dir_name(request.stack), default_catalog(), request.at)
