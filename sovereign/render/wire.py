"""Property values as they travel on the wire (protobuf Struct), turned into plain JSON-like data.

The recorder keeps the wire encoding of special values (secrets, resource references) so each consumer can
choose: ``preview.json`` and manifests show secrets as ``"[secret]"`` (like ``pulumi preview --json``), the
policy pack receives them as plain values (as the engine sends them to ``Analyze``).
"""

from __future__ import annotations

import math
from typing import Any

from sovereign.core.secret_text import SECRET_TEXT

# Protocol constants (sdk/go/common/resource/properties.go; pulumi/runtime/rpc.py).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Sentinel for values not known during preview; kept verbatim, as ``pulumi preview --json`` shows it."""


def _normalise(value: Any) -> Any:
    """Struct numbers are doubles; integral ones become ints so ports stay ``8443``, not ``8443.0``."""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def struct_to_value(struct: Any) -> dict[str, Any]:
    """Protobuf Struct -> dict, keeping signature objects (secrets, references) as they are encoded."""
    from google.protobuf import json_format  # the recorder's: a check of manifests needs only the secret markers

    return _unwrap_output_values(_normalise(json_format.MessageToDict(struct)))


def value_to_struct(value: dict[str, Any]) -> Any:
    """dict -> Struct; for JSON-like values ``Struct.update`` sets exactly what ``json_format.ParseDict`` does,
    without the generic parser (tests/program/test_wire.py compares both)."""
    from google.protobuf import struct_pb2

    out = struct_pb2.Struct()
    out.update(value)
    return out


def _unwrap_output_values(value: Any) -> Any:
    """Output values (only sent when the monitor supports them) carry their plain value under ``value``."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == OUTPUT_VALUE_SIG:
            inner = _unwrap_output_values(value.get("value", UNKNOWN))
            return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
        return {k: _unwrap_output_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_output_values(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def redact_secrets(value: Any) -> Any:
    """Secrets -> ``"[secret]"`` (the ``pulumi preview --json`` display form)."""
    if is_secret(value):
        return SECRET_TEXT
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def redact_secret_leaves(value: Any) -> Any:
    """Secrets -> same shape with every leaf ``"[secret]"``: keeps a manifest's structure (``stringData`` stays a
    mapping) while no secret text is written. Used for manifest files; preview.json uses ``redact_secrets``."""
    if is_secret(value):
        return _all_leaves(value.get("value"))
    if isinstance(value, dict):
        return {k: redact_secret_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secret_leaves(v) for v in value]
    return value


def _all_leaves(value: Any) -> Any:
    if is_secret(value):
        return _all_leaves(value.get("value"))
    if isinstance(value, dict):
        return {k: _all_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_leaves(v) for v in value]
    return SECRET_TEXT


def reveal_secrets(value: Any) -> Any:
    """Secrets -> their plain value, as the engine hands them to ``Analyze`` (docs/pulumi-runtime.md §2)."""
    if is_secret(value):
        return reveal_secrets(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal_secrets(v) for v in value]
    return value
