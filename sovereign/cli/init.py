"""``sovereign init``: write a commented organisation file for a new team (the catalog's organisation layer).

Why a generated file: the example organisation's registries, networks and data classes are made up, so every real
image would be flagged and private ranges attributed to the example's jurisdictions. The file written here holds
no public facts (it names jurisdictions and legal categories by id, so a public-layer update never conflicts with
it), starts with one data class per legal category, and is validated against the public layer before it is put in
place: it works with ``sovereign check --manifests`` at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sovereign.catalog.model import Catalog, Jurisdiction
from sovereign.cli import exitcodes
from sovereign.core.errors import InputError

DEFAULT_NAME = "My organisation"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write a commented organisation file (your networks, domains, registries, data classes)",
        description="Write the organisation file for a new team: one section per --jurisdiction of the public "
        "layer, with your registries and one data class per legal category, validated before it is written. "
        "Default place: organisation.yaml at the project root (outside a project: the working directory), where "
        "every command and the policy pack find it. "
        "Exit 0 written, 2 bad input (an unknown jurisdiction, an existing file without --force).",
    )
    parser.add_argument("--jurisdiction", action="append", required=True, metavar="ID",
                        help="a jurisdiction id of the public layer the organisation runs clusters in (repeatable)")
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"the organisation's name (default {DEFAULT_NAME!r})")
    parser.add_argument("--registry", action="append", default=[], metavar="HOST",
                        help="an image registry host your workloads pull from, allowed in every jurisdiction given "
                        "(repeatable; edit the file to allow it in some only)")
    parser.add_argument("--output", type=Path,
                        help="where to write it (default: organisation.yaml at the project root; elsewhere, pass "
                        "it as --organisation FILE or $SOVEREIGN_ORGANISATION)")
    parser.add_argument("--catalog", type=Path, help="public layer directory (default: policies/catalog)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sovereign.catalog import load_catalog, load_public_layer
    from sovereign.core import paths

    public = load_public_layer(args.catalog)
    chosen = _jurisdictions(public, args.jurisdiction)
    target = Path(args.output) if args.output is not None else paths.organisation_home() / paths.ORGANISATION_FILE
    if (target.exists() or target.is_symlink()) and not args.force:
        raise InputError(target, (), "no file there (pass --force to overwrite it)", found_text="an existing file")
    text = organisation_text(public, chosen, name=args.name, registries=args.registry)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            load_catalog(args.catalog, Path(tmp))  # validates as written, with the public layer it was written from
        except InputError as exc:
            raise InputError("command line", (), "values that make a valid organisation file",
                             found_text=exc.message.replace(tmp, str(target))) from None
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {target}: organisation {args.name!r}, jurisdictions {', '.join(j.id for j in chosen)} "
          f"(public layer {public.version}); edit its networks, domains, registries and data classes",
          file=sys.stderr)
    return exitcodes.CLEAN


def _jurisdictions(public: Catalog, ids: Sequence[str]) -> list[Jurisdiction]:
    known = sorted(public.jurisdictions)
    out: list[Jurisdiction] = []
    for given in ids:
        jur = public.jurisdiction(given)
        if jur is None:
            raise InputError("command line", ("--jurisdiction",),
                             f"a jurisdiction id of the public layer ({', '.join(known)})", given)
        if jur not in out:
            out.append(jur)
    return sorted(out, key=lambda j: j.id)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


def _flow_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_quoted(i) for i in items) + "]"


def organisation_text(public: Catalog, jurisdictions: Sequence[Jurisdiction], *, name: str,
                      registries: Sequence[str]) -> str:
    """The commented organisation file: deterministic (no date, sorted), valid against the public layer."""
    lines = [
        f"# Organisation file of {name}: the catalog's organisation layer (docs/catalog.md), written by",
        f"# `sovereign init` from the public layer {public.version} (policies/catalog/). It holds only your own",
        "# facts, per jurisdiction id of the public layer; regions, countries, export rules and accelerator rules",
        "# stay in the public layer, so an update of it never conflicts with this file. Validated by",
        "# policies/catalog/catalog.schema.json ($defs/organisation_file); check it with `sovereign validate`.",
        f"name: {_quoted(name)}",
        '# Your own version of this file (any text such as "1" or "2026.12.06"); reports print it.',
        'version: "1"',
        "",
        "jurisdictions:",
    ]
    for jur in jurisdictions:
        lines += [
            f"  {jur.id}:  # {jur.name}",
            f"    # Your address space in {jur.id} (CIDR): node, pod and service ranges, private networks. Each",
            "    # address belongs to one jurisdiction; one no jurisdiction lists is judged as foreign (fail closed).",
            "    networks: []",
            f"    # Your DNS names in {jur.id}, e.g. \"*.example.com\" (a '*.' prefix: every name below it).",
            "    domains: []",
            f"    # The image registries workloads in {jur.id} may pull from, e.g. \"registry.example.com\",",
            "    # \"*.dkr.ecr.<region>.amazonaws.com\". None listed: every image is a violation (image-registry).",
            f"    registries: {_flow_list(sorted(dict.fromkeys(registries)))}",
            "    # Your data classes (the ids stacks and labels use), each under a legal category of the public layer:",
        ]
        for category in jur.data_categories.values():
            where = f" to {', '.join(category.destinations)}" if category.destinations else ""
            lines.append(f"    #   {category.id}: export {category.export.value}{where}")
        lines += [
            "    # A class may narrow its category (destinations: [..], export: a stricter mode), never widen it.",
            "    # Rename these, or add one class per kind of data you hold.",
            "    data_classes:",
        ]
        for category in jur.data_categories.values():
            lines += [
                f"      {category.id}:",
                f"        description: {_quoted(category.description)}",
                f"        category: {category.id}",
            ]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
