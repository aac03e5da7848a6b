"""What Pulumi may do to an object over its life: the resource options each kind gets, defined once.

Namespaces, PersistentVolumeClaims and StatefulSets hold or own the estate's data: deleting a Namespace deletes
its claims, and a claim's volume goes with it unless its class retains it. They are declared
* ``protect``: an update that would delete or replace them (a tenant removed from the stack, a provider
  replacement) fails instead, until someone runs ``pulumi state unprotect`` on purpose;
* ``retain_on_delete``: when they do leave the stack (``pulumi destroy``, or after unprotecting), Pulumi forgets
  them and leaves the objects, and the data, in the cluster for the operators to remove.
Jobs are not awaited (``pulumi.com/skipAwait``, set on the manifest in infra/compute.py): a training Job runs for
hours and pulumi-kubernetes would otherwise wait up to 10 minutes for it to complete and then fail the update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

STATEFUL_KINDS: frozenset[tuple[str, str]] = frozenset(
    {("v1", "Namespace"), ("v1", "PersistentVolumeClaim"), ("apps/v1", "StatefulSet")}
)
"""(apiVersion, kind) of the objects that are protected and retained on delete."""


def holds_data(manifest: Mapping[str, Any]) -> bool:
    return (manifest["apiVersion"], manifest["kind"]) in STATEFUL_KINDS


def lifecycle_options(manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` plus protect/retain_on_delete for the kinds that hold data; other kinds keep ``opts``."""
    if not holds_data(manifest):
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
