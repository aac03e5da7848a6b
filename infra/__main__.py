"""Pulumi entry point: ``pulumi up --stack <stack>`` builds one SovereignCluster from the validated config.

The language host runs this file with cwd = infra/ and without the project root on sys.path; the imports
below work because the repository is pip-installed (editable) into .venv (``make venv``/``pulumi install``).
"""

from __future__ import annotations

import sys

import pulumi

# Top-level packages that come from the project's install; missing one means the venv was not set up.
PROJECT_IMPORTS = ("infra", "sovereign", "pulumi_kubernetes", "yaml", "jsonschema")

try:
    from infra.cluster import SovereignCluster
    from infra.plan import build_plan
    from infra.provider import kubernetes_provider, render_mode_refusal
    from infra.stack_input import load_validated_stack
    from sovereign.catalog import default_catalog
    from sovereign.core.clock import evaluation_time
    from sovereign.core.errors import InputError
except ModuleNotFoundError as exc:  # tested with a venv that lacks the project (tests/program)
    if exc.name and exc.name.split(".")[0] in PROJECT_IMPORTS:
        raise pulumi.RunError(
            f"cannot import {exc.name!r}: the project is not installed in the Pulumi virtualenv. "
            f"Run `make venv` (or `pulumi install`) in the project root, then retry. [{sys.executable}]"
        ) from None
    raise


def main() -> None:
    # Validate everything (catalog, stack config, evaluation time, plan) before declaring a single resource.
    try:
        catalog = default_catalog()
        config, kubeconfig = load_validated_stack(catalog)
        plan = build_plan(config, catalog, evaluation_time())
    except InputError as err:
        raise pulumi.RunError(err.message) from None
    refusal = render_mode_refusal() if kubeconfig is None else None
    if refusal is not None:
        raise pulumi.RunError(refusal)

    provider = kubernetes_provider(
        config.stack,
        kubeconfig,
        config.render_dir,
        jurisdiction=config.jurisdiction,
        cluster_name=config.cluster.name,
    )
    cluster = SovereignCluster(config.stack, plan, pulumi.ResourceOptions(providers=[provider]))
    for key, value in cluster.outputs.items():
        pulumi.export(key, value)


main()
