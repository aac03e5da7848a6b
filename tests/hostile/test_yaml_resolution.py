"""The strict loaders' remembered tag resolution gives PyYAML's own tags (sovereign/core/yaml_resolution.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.core import yaml_resolution, yamlio
from sovereign.core.yaml_resolution import RememberedScalarResolution, skip_path_tracking

REPO = Path(__file__).resolve().parents[2]

LOADERS = [(yamlio._StrictLoader, yaml.SafeLoader)]
if yamlio._FastLoader is not None:
    LOADERS.append((yamlio._FastLoader, yaml.CSafeLoader))

TRICKY = [
    "", " ", "~", "null", "Null", "NULL", "yes", "No", "ON", "off", "y", "n", "true", "False", "0", "-0", "+1",
    "0x1F", "0o17", "017", "0b101", "1_000", "1:20", "190:20:30", ".inf", "-.Inf", "+.INF", ".NaN", ".nan", "1e3",
    "1.5e-3", "6.8523015e+5", "685.230_15e+03", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10",
    "=", "<<", "=x", "<<x", "-", "--", "0.", ".5", "1.", "v1", "apps/v1", "8443", "10.0.0.0/8", "a b", "é", "日本",
    "0x", "0b", "1__0", "._", "-.", "+", "123abc",
]
IMPLICITS = [(True, False), (False, True), (False, False), (True, True)]


def _tags(loader_class: Any, value: str, implicit: tuple[bool, bool]) -> list[str]:
    loader = loader_class("")
    try:
        return [loader.resolve(yaml.ScalarNode, value, implicit) for _ in range(2)]  # the second from the memo
    finally:
        loader.dispose()


@pytest.mark.parametrize(("ours", "theirs"), LOADERS)
@pytest.mark.parametrize("implicit", IMPLICITS)
@pytest.mark.parametrize("value", TRICKY)
def test_tricky_scalars_get_pyyamls_tags(ours: Any, theirs: Any, value: str, implicit: tuple[bool, bool]) -> None:
    expected = theirs("").resolve(yaml.ScalarNode, value, implicit)
    assert _tags(ours, value, implicit) == [expected, expected]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("0123456789.:-+_eExXoObB ~yYnNtTfFaAlLsS"), max_size=10),
       st.sampled_from(IMPLICITS))
def test_random_scalars_get_pyyamls_tags(value: str, implicit: tuple[bool, bool]) -> None:
    for ours, theirs in LOADERS:
        assert _tags(ours, value, implicit) == [theirs("").resolve(yaml.ScalarNode, value, implicit)] * 2


def _node_tags(node: Any) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, [_node_tags(n) for n in node.value])
    return (node.tag, [(_node_tags(k), _node_tags(v)) for k, v in node.value])


def _compose_all(loader_class: Any, text: str, tracking: bool) -> list[Any]:
    """Every document's tags, then the error if the text is not well-formed (some fixtures are broken on purpose)."""
    out: list[Any] = []
    try:
        loader = loader_class(text)
    except yaml.YAMLError as exc:
        return [("error", str(exc))]
    if tracking:
        skip_path_tracking(loader)
    try:
        while loader.check_node():
            node = loader.get_node()
            out.append(None if node is None else _node_tags(node))
    except yaml.YAMLError as exc:
        out.append(("error", str(exc)))
    finally:
        loader.dispose()
    return out


def test_every_yaml_file_of_the_repository_composes_to_pyyamls_tags() -> None:
    files = [p for p in REPO.rglob("*.y*ml") if ".venv" not in p.parts and ".git" not in p.parts and p.is_file()]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        for ours, theirs in LOADERS:
            assert _compose_all(ours, text, tracking=True) == _compose_all(theirs, text, tracking=False), path


def test_quoted_and_plain_twins_in_one_document() -> None:
    text = "a: yes\nb: 'yes'\nc: \"1\"\nd: 1\ne: ~\nf: '~'\ng: [on, 'on']\n'h': 2001-12-14\n"
    for ours, theirs in LOADERS:
        assert _compose_all(ours, text, tracking=True) == _compose_all(theirs, text, tracking=False)


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    class Small(RememberedScalarResolution, yaml.SafeLoader):
        pass

    monkeypatch.setattr(yaml_resolution, "MAX_REMEMBERED", 5)
    for i in range(20):
        _tags(Small, f"v{i}", (True, False))
    _tags(Small, "x" * (yaml_resolution.MAX_REMEMBERED_LENGTH + 1), (True, False))
    assert len(Small._plain_scalar_tags) == 5
    assert all(len(k) <= yaml_resolution.MAX_REMEMBERED_LENGTH for k in Small._plain_scalar_tags)
    assert Small._plain_scalar_tags is not yamlio._StrictLoader._plain_scalar_tags  # one memo per class


def test_a_loader_with_path_resolvers_resolves_by_path() -> None:
    class PathTagged(RememberedScalarResolution, yaml.SafeLoader):
        pass

    class PathTaggedPlain(yaml.SafeLoader):
        pass

    for cls in (PathTagged, PathTaggedPlain):
        cls.add_path_resolver("!port", ["spec", "port"], yaml.ScalarNode)
    text = "spec: {port: abc, other: abc}\nport: abc\n"  # plain texts no implicit resolver claims
    ours = _compose_all(PathTagged, text, tracking=True)
    assert ours == _compose_all(PathTaggedPlain, text, tracking=False)
    assert "!port" in repr(ours)
