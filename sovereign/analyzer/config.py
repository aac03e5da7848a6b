"""Policy-pack config as the CLI reconciles it before ``Configure`` (as pkg/resource/analyzer/config.go does).

Effective config = each policy's schema ``default``s -> the pack's ``initialConfig`` -> the user's
``--policy-pack-config`` JSON. An ``"all"`` entry sets only the enforcement level of every policy.
Each policy's properties are then validated against ``{"type": "object", properties, required}``;
errors abort the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sovereign.analyzer.model import ENFORCEMENT_LEVELS, AnalyzerInfo
from sovereign.core.errors import InputError, InputErrors

PolicyConfig = dict[str, Any]
"""``{"enforcementLevel": level | None, "properties": {...}}``."""


def _split(source: str, key: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, str):
        if value not in ENFORCEMENT_LEVELS:
            raise InputError(source, (key,), f"one of {', '.join(ENFORCEMENT_LEVELS)}", value)
        return value, {}
    if isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
        if level is not None and level not in ENFORCEMENT_LEVELS:
            raise InputError(
                source, (key, "enforcementLevel"), f"one of {', '.join(ENFORCEMENT_LEVELS)}", level
            )
        return level, props
    raise InputError(source, (key,), "an enforcement level string or an object", value)


def parse_policy_pack_config(
    raw: Mapping[str, Any], *, source: str = "--policy-pack-config"
) -> dict[str, PolicyConfig]:
    """User config ``{"<policy>"|"all": level | {enforcementLevel?, <props>}}`` -> normalised entries."""
    result: dict[str, PolicyConfig] = {}
    for key in sorted(raw):
        if key == "environments":
            continue  # Pulumi Cloud environments; not used by local packs
        level, props = _split(source, key, raw[key])
        if level is None and not props:
            continue
        result[key] = {"enforcementLevel": level, "properties": props}
    return result


def read_policy_pack_config(path: Path) -> dict[str, Any]:
    """The raw JSON object of a ``--policy-pack-config`` file (empty file = no config), its shape checked as the
    CLI checks it; only a regular file of bounded size is read (a FIFO or device would block or never end)."""
    from sovereign.core.yamlio import read_text

    text = read_text(path)
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, (), "valid JSON", found_text=f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(raw, Mapping):
        raise InputError(path, (), "a JSON object keyed by policy name", raw)
    parse_policy_pack_config(raw, source=str(path))
    return dict(raw)


def _apply(result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]) -> None:
    everything = given.get("all")
    if everything and everything.get("enforcementLevel"):
        for entry in result.values():
            entry["enforcementLevel"] = everything["enforcementLevel"]
    for name, cfg in given.items():
        entry = result.setdefault(name, {"enforcementLevel": None, "properties": {}})
        if cfg.get("enforcementLevel"):
            entry["enforcementLevel"] = cfg["enforcementLevel"]
        entry["properties"].update(cfg.get("properties") or {})


def effective_policy_config(
    info: AnalyzerInfo, user_config: Mapping[str, Any] | None = None, *, source: str = "--policy-pack-config"
) -> dict[str, PolicyConfig]:
    """Reconcile defaults, initial config and user config; ``InputError`` when a policy's config is invalid.

    ``user_config`` is the raw JSON shape of a ``--policy-pack-config`` file.
    """
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {
            k: v["default"]
            for k, v in policy.config_schema.items()
            if isinstance(v, Mapping) and "default" in v
        }
        result[policy.name] = {"enforcementLevel": policy.enforcement_level, "properties": defaults}
    initial = parse_policy_pack_config(info.initial_config, source=f"{info.name} initialConfig")
    _apply(result, initial)
    _apply(result, parse_policy_pack_config(user_config or {}, source=source))

    errors: list[InputError] = []
    for policy in info.policies:
        props = result.get(policy.name, {}).get("properties") or {}
        if not policy.required and (not policy.config_schema or not props):
            continue  # nothing given and nothing required: valid against any object schema
        schema: dict[str, Any] = {"type": "object"}
        if policy.config_schema:
            schema["properties"] = dict(policy.config_schema)
        if policy.required:
            schema["required"] = list(policy.required)
        import jsonschema  # only when there is something to validate

        for err in sorted(jsonschema.Draft4Validator(schema).iter_errors(props), key=lambda e: list(e.path)):
            errors.append(
                InputError(
                    source,
                    (policy.name, *err.path),
                    "a value matching the policy's config schema",
                    found_text=err.message,
                )
            )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
    return result
