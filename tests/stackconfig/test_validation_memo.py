"""A stack validated twice in one process (worker, then program) is checked once; nothing else is shared."""

from __future__ import annotations

import dataclasses

import pytest
from stackconfig_support import catalog, example_values, parse

from sovereign.core.errors import InputErrors
from sovereign.stackconfig import loader


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(loader, "_validated", {})
    calls: list[str] = []
    real = loader._validate_unremembered

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(kwargs["stack"]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_validate_unremembered", counting)
    return calls


def test_the_same_config_is_validated_once_and_the_result_shared(counted: list[str]) -> None:
    first = parse(example_values("cn-prod"))
    second = parse(example_values("cn-prod"))
    assert second is first and counted == ["cn-prod"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.stack = "other"  # type: ignore[misc]  # shared, so it must be immutable


def test_a_changed_value_another_stack_or_another_catalog_is_validated_again(counted: list[str]) -> None:
    parse(example_values("cn-prod"))
    changed = example_values("cn-prod")
    changed["cluster"]["name"] = changed["cluster"]["name"] + "-b"
    parse(changed)
    parse(example_values("cn-prod"), stack="other-stack")
    other_catalog = dataclasses.replace(catalog())
    loader.parse_stack_config(
        example_values("cn-prod"), stack="cn-prod", source_file="stacks/Pulumi.cn-prod.yaml", catalog=other_catalog
    )
    assert counted == ["cn-prod", "cn-prod", "other-stack", "cn-prod"]


def test_a_rejected_config_is_rejected_every_time(counted: list[str]) -> None:
    bad = example_values("cn-prod")
    bad["cluster"]["kubernetesVersion"] = 134
    for _ in range(2):
        with pytest.raises(InputErrors):
            parse(bad)
    assert len(counted) == 2


def test_only_a_few_are_remembered(counted: list[str]) -> None:
    for i in range(loader._VALIDATED_REMEMBERED + 3):
        parse(example_values("cn-prod"), stack=f"s{i}")
    assert len(loader._validated) == loader._VALIDATED_REMEMBERED
