"""Read what the Pulumi CLI itself keeps about where a stack is operated from: its backend and its secrets provider.

One source of truth: these facts already have a place the CLI reads, so they are read from there and never repeated
under ``sovereign-clusters:`` (pkg/cmd/pulumi and pkg/workspace of the Pulumi CLI):

* the backend: ``$PULUMI_BACKEND_URL``, else ``backend.url`` of the project file (``Pulumi.yaml``), else the
  credentials of ``pulumi login`` (``GetCurrentCloudURLWithSource``). The credentials file is per machine, not per
  stack, and is not read here: a stack whose backend neither of the first two names declares it in
  ``sovereign-clusters:operations.stateBackend`` and its operators log in to that URL;
* the secrets provider: ``secretsprovider:`` of the stack file (``Pulumi.<stack>.yaml``), as written by
  ``pulumi stack init --secrets-provider`` and ``pulumi stack change-secrets-provider``; absent, the backend's
  default (passphrase on a DIY backend, the service's own key on Pulumi Cloud).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sovereign.core import paths
from sovereign.core.errors import InputError
from sovereign.core.yamlio import load_yaml_file
from sovereign.stackconfig.error_text import type_name
from sovereign.stackconfig.model import PulumiFacts

BACKEND_URL_ENV = "PULUMI_BACKEND_URL"
"""The CLI's override of every other backend choice (sdk/go/common/env: ``BackendURL``)."""
SECRETS_PROVIDER_KEY = "secretsprovider"


def project_backend_url(project_root: Path) -> str | None:
    """``backend.url`` of the project file at ``project_root`` (None when the file or the key is absent)."""
    for name in paths.PROJECT_FILES:
        project_file = project_root / name
        if project_file.is_file():
            break
    else:
        return None
    document = load_yaml_file(project_file)
    if not isinstance(document, Mapping):
        return None  # the CLI refuses such a project file itself; nothing to read here
    backend = document.get("backend")
    if backend is None:
        return None
    if not isinstance(backend, Mapping):
        raise InputError(project_file, ("backend",), "a mapping with a `url:` key", found_text=type_name(backend))
    url = backend.get("url")
    if url is None:
        return None
    if not isinstance(url, str) or not url:
        raise InputError(project_file, ("backend", "url"), "a backend URL (s3://, gs://, azblob://, file://, "
                         "postgres:// or https://)", found_text=type_name(url))
    return url


def stack_secrets_provider(stack_file: Path) -> str | None:
    """``secretsprovider:`` of a stack file whose shape ``stack_file.read_stack_file`` accepted."""
    document = load_yaml_file(stack_file)
    if not isinstance(document, Mapping):
        return None
    value = document.get(SECRETS_PROVIDER_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(stack_file, (SECRETS_PROVIDER_KEY,), "a secrets provider: passphrase, default, or a "
                         "awskms://, azurekeyvault://, gcpkms:// or hashivault:// URL", found_text=type_name(value))
    return value


def read_pulumi_facts(stack_file: Path, environ: Mapping[str, str] | None = None) -> PulumiFacts:
    """The facts for ``stack_file``; its project is the nearest ``Pulumi.yaml`` above it, as the CLI finds it."""
    env = os.environ if environ is None else environ
    project = paths.find_project(stack_file.parent)
    env_url = env.get(BACKEND_URL_ENV) or None
    project_url = project_backend_url(project) if project is not None else None
    if env_url is not None:
        backend, source = env_url, f"${BACKEND_URL_ENV}"
    elif project_url is not None:
        backend, source = project_url, "Pulumi.yaml backend.url"
    else:
        backend, source = None, f"neither ${BACKEND_URL_ENV} nor Pulumi.yaml backend.url is set"
    return PulumiFacts(backend_url=backend, backend_source=source,
                       secrets_provider=stack_secrets_provider(stack_file), stack_file=str(stack_file),
                       project_backend_url=project_url)


def facts_of_stack(stack: str) -> PulumiFacts:
    """The facts of the project's stack ``stack`` (the pack knows only the stack's name, ``$PULUMI_STACK``). Without
    a project or a stack file they are unknown: ``stack_file`` is empty, and the operations rule fails closed."""
    try:
        path = paths.stack_file(stack) if stack else None
    except paths.NoProjectError:
        path = None
    if path is None or not path.is_file():
        env_url = os.environ.get(BACKEND_URL_ENV) or None
        return PulumiFacts(backend_url=env_url,
                           backend_source=f"${BACKEND_URL_ENV}" if env_url else "no stack file to read",
                           secrets_provider=None, stack_file="")
    return read_pulumi_facts(path)
