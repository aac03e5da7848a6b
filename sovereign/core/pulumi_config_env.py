"""The ``PULUMI_CONFIG`` environment string the Pulumi CLI hands programs and policy packs, and its size limit.

The Python language host serialises the stack config with Go's ``json.Marshal`` (pulumi-language-python
``constructConfig``): keys sorted, no spaces, UTF-8 kept as is, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped.
Structured values are JSON text made the same way. The same text goes to the policy pack (the CLI's policy
proxy). Linux refuses to ``execve`` a process whose single environment string exceeds ``MAX_ARG_STRLEN``, so a
stack whose config is too large cannot be run by the real CLI at all; render and check refuse it the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_ENV_STRING_BYTES = 128 * 1024
"""Linux MAX_ARG_STRLEN: the largest single ``NAME=value`` string execve accepts (32 pages of 4 KiB)."""

_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json(value: Any) -> str:
    """JSON text as Go's ``json.Marshal`` writes it (sorted keys, compact, HTML-safe, UTF-8)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if any(ch in text for ch in _GO_ESCAPES):
        for raw, escaped in _GO_ESCAPES.items():
            text = text.replace(raw, escaped)
    return text


def pulumi_config_text(values: Mapping[str, Any]) -> str:
    """``{"ns:key": "<string or JSON text>"}``: the value of ``PULUMI_CONFIG``."""
    return go_json({key: value if isinstance(value, str) else go_json(value) for key, value in values.items()})


def env_string_bytes(values: Mapping[str, Any]) -> int:
    """Bytes of ``PULUMI_CONFIG=<text>`` plus its terminating NUL, as execve counts them."""
    return len(b"PULUMI_CONFIG=") + len(pulumi_config_text(values).encode("utf-8")) + 1


def over_limit_message(stack: str, size: int) -> str | None:
    """Why the CLI could not start a program or pack with this config, or ``None`` when it fits."""
    if size <= MAX_ENV_STRING_BYTES:
        return None
    return (
        f"the stack config of {stack} is {size} bytes as PULUMI_CONFIG, over the {MAX_ENV_STRING_BYTES}-byte limit "
        "Linux sets on one environment string (MAX_ARG_STRLEN); the Pulumi CLI hands the config to programs and "
        "policy packs this way, so `pulumi up` would fail too. Shorten the config: declare shared egress "
        "destinations once under sovereign-clusters:destinations and refer to them by name, put common workload "
        "settings under sovereign-clusters:workloadDefaults, or split the cluster into more stacks"
    )
