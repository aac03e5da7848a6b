"""How a Kubernetes object's kind is written: ``apiVersion`` (``apps/v1``, core ``v1``) and pulumi-kubernetes type
tokens (``kubernetes:apps/v1:Deployment``, the core group written ``core``). The one place either is parsed."""

from __future__ import annotations

CORE_GROUPS = ("", "core")
"""The core group is ``""`` in manifests' apiVersion (``v1``) and ``core`` in Pulumi type tokens."""


def type_token(api_version: str, kind: str) -> str:
    """``apps/v1`` + ``Deployment`` -> ``kubernetes:apps/v1:Deployment``; core ``v1`` -> ``core/v1``: the provider's
    type tokens."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def split_type_token(token: str) -> tuple[str, str, str] | None:
    """``kubernetes:apps/v1:Deployment`` -> ("apps", "v1", "Deployment"); the core group -> ""; else None."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return None
    group, version = parts[1].rsplit("/", 1)
    return ("" if group in CORE_GROUPS else group), version, parts[2]


def api_group(api_version: object) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` (the core group) -> ""; anything but a string -> "" too."""
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.rsplit("/", 1)[0]


def api_version_number(api_version: object) -> str:
    """``apps/v1`` -> ``v1``; ``v1`` -> ``v1``; anything but a string -> ""."""
    return api_version.rsplit("/", 1)[-1] if isinstance(api_version, str) else ""


def api_version_of(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version
