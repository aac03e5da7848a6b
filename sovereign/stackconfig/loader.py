"""Entry points: a stack's configuration -> ``StackConfig``, from a stack file or from the Pulumi program.

The Pulumi program calls ``parse_stack_config`` with the values it reads from ``pulumi.Config``; offline tools
call ``load_stack_file``/``load_stack``. Both run the same passes, so the program, the policy pack and the CLI
accept exactly the same stacks. Each pass reports every problem it finds (``InputErrors``) so a user fixes a
file in one round, and runs only on input the previous one accepted: strict YAML and file shape
(``stack_file``), JSON values (``normalise``), schema (``schema_validation``), shared destinations and workload
defaults written out (``expand``), typed model with defaults (``build``), catalog (``catalog_checks``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovereign.core import paths
from sovereign.core.errors import InputError, InputErrors
from sovereign.core.secret_text import SECRET_TEXT
from sovereign.stackconfig.build import DEFAULT_RENDER_DIR, build_stack_config
from sovereign.stackconfig.catalog_checks import catalog_errors_of
from sovereign.stackconfig.error_text import listing, type_name
from sovereign.stackconfig.expand import expand_shared
from sovereign.stackconfig.model import PulumiFacts, StackConfig
from sovereign.stackconfig.namespace import KUBECONFIG_KEY, PREFIX, KeyPath, key_path, prefixed, unprefixed
from sovereign.stackconfig.normalise import json_compatible
from sovereign.stackconfig.pulumi_files import read_pulumi_facts
from sovereign.stackconfig.schema_validation import KUBECONFIG_EXPECTED, config_keys, schema_errors_of, stack_schema
from sovereign.stackconfig.stack_file import STACK_FILE_KEYS, list_stacks, read_stack_file

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog

# Every public name this module had before the split into passes stays importable from here.
__all__ = [
    "DEFAULT_RENDER_DIR",
    "KUBECONFIG_EXPECTED",
    "KUBECONFIG_KEY",
    "PREFIX",
    "STACK_FILE_KEYS",
    "KeyPath",
    "config_keys",
    "list_stacks",
    "load_stack",
    "load_stack_file",
    "parse_display_config",
    "parse_stack_config",
    "schema_errors_of",
    "stack_schema",
    "with_pulumi_facts",
]

def load_stack(stack: str, *, catalog: Catalog | None = None) -> StackConfig:
    """Load ``stacks/Pulumi.<stack>.yaml`` (``/`` in the name becomes ``-``, as the Pulumi CLI does)."""
    path = paths.stack_file(stack)
    if not path.is_file():
        known = listing(list_stacks())
        raise InputError(path, (), f"an existing stack file (known stacks: {known})", found_text="no such file")
    return load_stack_file(path, catalog=catalog)


def load_stack_file(path: Path, *, catalog: Catalog | None = None) -> StackConfig:
    """Read a whole ``Pulumi.<stack>.yaml``, take its ``config:`` mapping and validate it."""
    path = Path(path)
    stack, config = read_stack_file(path)
    stack_config = _validate(config, stack=stack, source_file=str(path), catalog=catalog)
    return with_pulumi_facts(stack_config, read_pulumi_facts(path))


def with_pulumi_facts(stack_config: StackConfig, facts: PulumiFacts) -> StackConfig:
    """``stack_config`` with the Pulumi CLI's own facts (``pulumi_files``); a state backend named both by
    ``Pulumi.yaml``'s ``backend.url`` and by the stack is bad input: one fact, one place."""
    ops = stack_config.operations
    if ops is not None and ops.state_backend is not None and facts.project_backend_url is not None:
        raise InputError(
            stack_config.source_file, key_path("operations", "stateBackend"),
            f"no stateBackend: Pulumi.yaml's backend.url ({facts.project_backend_url}) already names the backend "
            "every stack of the project uses", found_text=repr(ops.state_backend))
    return dataclasses.replace(stack_config, pulumi=facts)


def parse_display_config(
    config: Mapping[str, str], *, stack: str, source_file: str, catalog: Catalog | None = None
) -> StackConfig:
    """The stack config from its display form (``preview.json``'s ``config``, the pack's config: every value a
    string, structured values as JSON text, secret values as ``"[secret]"``: only set or not matters)."""
    values: dict[str, Any] = {}
    for key, text in config.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if text == SECRET_TEXT:
            values[name] = True
        elif text[:1] in "[{":
            values[name] = json.loads(text)
        else:
            values[name] = text
    return parse_stack_config(values, stack=stack, source_file=source_file, catalog=catalog)


def parse_stack_config(
    values: Mapping[str, Any],
    *,
    stack: str,
    source_file: str,
    catalog: Catalog | None = None,
) -> StackConfig:
    """Validate config values given by key WITHOUT the ``sovereign-clusters:`` prefix.

    The Pulumi program builds ``values`` under the real CLI from ``pulumi.Config`` (one read per key of
    ``config_keys()``; for ``kubeconfig`` only whether the secret is set).
    A ``None`` value means "not set". ``kubeconfig`` may be given as ``True`` (a secret is set; the value
    is not needed here) or as the ``{"secure": ...}`` marker; ``False`` means not set. A plain string is a
    plaintext kubeconfig and is rejected. Keys that already contain ``:`` (other namespaces) pass through.
    """
    if not isinstance(values, Mapping):
        raise InputError(source_file, (), "a mapping of configuration keys", found_text=type_name(values))
    config: dict[Any, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == KUBECONFIG_KEY and isinstance(value, bool):
            if not value:
                continue
            value = {"secure": SECRET_TEXT}
        config[prefixed(key)] = value
    return _validate(config, stack=stack, source_file=source_file, catalog=catalog)


_VALIDATED_REMEMBERED = 4
_validated: dict[tuple[str, str, str], tuple[Catalog, StackConfig]] = {}
"""Stacks that passed ``_validate``, by (stack, source file, canonical JSON of the config), with the catalog they
were checked against. A render validates the same stack twice in one process (the worker first, for clean
errors, then the program itself, as under `pulumi up`); for a 200-workload stack that is 0.25 s, the key 5 ms.
Only successes are kept; a ``StackConfig`` is immutable, so both callers may share it."""


def _validated_key(config: dict[Any, Any], stack: str, source_file: str) -> tuple[str, str, str] | None:
    try:
        return (stack, source_file, json.dumps(config, sort_keys=True, separators=(",", ":")))
    except (TypeError, ValueError):
        return None  # not plain JSON: validate (and report) as usual


def _validate(config: dict[Any, Any], *, stack: str, source_file: str, catalog: Catalog | None) -> StackConfig:
    """The passes shared by both entry points, so the program and the CLI accept exactly the same stacks."""
    config = json_compatible(config, source_file)
    key = _validated_key(config, stack, source_file)
    remembered = _validated.get(key) if key is not None else None
    if remembered is not None:
        from sovereign.catalog import default_catalog  # loaded already: this stack was checked against it

        if remembered[0] is (catalog if catalog is not None else default_catalog()):
            return remembered[1]
    used, stack_config = _validate_unremembered(config, stack=stack, source_file=source_file, catalog=catalog)
    if key is not None:
        _validated[key] = (used, stack_config)
        while len(_validated) > _VALIDATED_REMEMBERED:
            del _validated[next(iter(_validated))]
    return stack_config


def _validate_unremembered(
    config: dict[str, Any], *, stack: str, source_file: str, catalog: Catalog | None
) -> tuple[Catalog, StackConfig]:
    """(the catalog it was checked against, the stack) or ``InputErrors``."""
    schema_errors = schema_errors_of(config, source_file)
    if schema_errors:
        raise InputErrors(schema_errors)
    expansion = expand_shared(unprefixed(config), source_file)
    if catalog is None:
        from sovereign.catalog import default_catalog  # lazy: schema and reference errors need no catalog

        catalog = default_catalog()
    try:
        stack_config = build_stack_config(expansion.values, stack=stack, source_file=source_file)
    except InputErrors as exc:
        raise InputErrors(expansion.attribute(exc.errors)) from None
    catalog_errors = catalog_errors_of(stack_config, catalog)
    if catalog_errors:
        raise InputErrors(expansion.attribute(catalog_errors))
    return catalog, stack_config
