"""Plain YAML scalars as kubectl reads them, for manifests.

Why: kubectl (and the API server) read YAML through sigs.k8s.io/yaml, which decodes it with go-yaml v2 into
untyped values and converts those to JSON. go-yaml v2 resolves plain (unquoted) scalars by its own table, which
differs from PyYAML's YAML 1.1 resolver in ways that change what an object says: ``1:20`` is the string "1:20"
to kubectl and 80 to PyYAML; ``0o17`` is 15 to kubectl and a string to PyYAML; ``y``/``n`` are booleans to
kubectl; ``=`` is a string to kubectl and a ``value`` tag PyYAML cannot construct at all (kube-prometheus CRDs
contain it). A value read differently from kubectl is a residency risk (a port, a CIDR, a region), so manifests
are resolved here exactly as go-yaml v2's ``resolve()`` does (go.yaml.in/yaml/v2 resolve.go, vendored by
Kubernetes), read into an untyped value:

* the exact texts of its map: ``y Y yes Yes YES true True TRUE on On ON`` true, the same with ``n``/``no``/
  ``false``/``off`` false; ``"" ~ null Null NULL`` null; ``.inf``/``.nan`` and their spellings non-finite floats
  (refused by the reader: JSON has none, and kubectl's JSON conversion fails on them); ``<<`` a merge key;
* text starting with ``.``: a float when Go's ``ParseFloat`` takes it (``.5``, ``.5e3``), else a string;
* text starting with a digit or a sign: an integer when Go's ``ParseInt``/``ParseUint`` with base 0 take it once
  every ``_`` is removed (``0x1F``, ``0o17``, ``0b101``, ``0777`` octal, ``1_000``; 64 bits), else a float when
  it is decimal (``1e3``, ``1.``, ``+.5``; one beyond a double is refused, see ``go_float``), else a string.
  No sexagesimal numbers (``1:20`` is a string). A timestamp (``2024-01-01``, ``2024-01-01T10:00:00Z``) is a
  string of its text: go-yaml gives the text itself when it decodes one into an untyped value;
* anything else: a string.

Quoted scalars are strings, as everywhere. Stack files and the catalog keep PyYAML's YAML 1.1 reading (their
meaning is not changed silently; docs/cli.md, "Input as kubectl reads it").
"""

from __future__ import annotations

import re
from typing import Any

import yaml

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"

BOOLEANS: dict[str, bool] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
NULLS = frozenset(("", "~", "null", "Null", "NULL"))
NON_FINITE: dict[str, float] = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
_EXACT: dict[str, str] = {
    **dict.fromkeys(BOOLEANS, BOOL_TAG),
    **dict.fromkeys(NULLS, NULL_TAG),
    **dict.fromkeys(NON_FINITE, FLOAT_TAG),
    "<<": MERGE_TAG,
}
_NUMBER_START = frozenset("0123456789+-")
_EXACT_START = frozenset("yYnNtTfFoO~")
_DECIMAL_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
"""go-yaml's ``yamlStyleFloat``: decimal only, an exponent's sign optional."""
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
"""What Go's ``ParseFloat`` takes of a text starting with ``.`` (no underscores without a base prefix)."""
_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
           16: frozenset("0123456789abcdefABCDEF")}
_PREFIXES = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def go_int(text: str) -> int | None:
    """The integer go-yaml v2 reads ``text`` as (``ParseInt(plain, 0, 64)``, then ``ParseUint``, ``plain`` =
    ``text`` without ``_``), or None."""
    plain = text.replace("_", "")
    sign, body = (plain[0], plain[1:]) if plain[:1] in ("+", "-") else ("", plain)
    base = _PREFIXES.get(body[:2])
    digits = body[2:] if base else body
    if base is None:
        base, digits = (8, body[1:]) if len(body) > 1 and body[0] == "0" else (10, body)
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = int(digits, base) * (-1 if sign == "-" else 1)
    if INT64_MIN <= value <= INT64_MAX or (not sign and value <= UINT64_MAX):
        return value
    return None


def go_float(text: str) -> float | None:
    """The float go-yaml v2 reads ``text`` as when it is no integer, or None (a string to kubectl).

    One deliberate difference: a decimal beyond a double (``1e400``) is infinite here, so the reader refuses it as
    it refuses ``.inf``; Go's ``ParseFloat`` fails on it and kubectl sends the text as a string, which no numeric
    field accepts: a number written that way is a mistake, not a value to judge."""
    if text[:1] == ".":
        if not _DOT_FLOAT.fullmatch(text):
            return None
        plain = text
    else:
        plain = text.replace("_", "")
        if not _DECIMAL_FLOAT.fullmatch(plain):
            return None
    return float(plain)


def go_yaml_tag(text: str) -> str:
    """The tag go-yaml v2 resolves the plain scalar ``text`` to (timestamps: ``str``, see the module)."""
    exact = _EXACT.get(text)
    if exact is not None:
        return exact
    first = text[:1]
    if first == ".":
        return FLOAT_TAG if go_float(text) is not None else STR_TAG
    if first in _NUMBER_START:
        if go_int(text) is not None:
            return INT_TAG
        if go_float(text) is not None:
            return FLOAT_TAG
    return STR_TAG


class KubectlScalarResolution:
    """Resolver mixin: plain scalars get go-yaml v2's tags (``go_yaml_tag``); everything else is resolved as the
    loader's next class does (quoted scalars are strings, collections their default tags)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return go_yaml_tag(value)
        return super().resolve(kind, value, implicit)  # type: ignore[misc]


def _not_as_kubectl(node: yaml.ScalarNode, what: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"{node.value!r} is not {what} as kubectl reads YAML (go-yaml v2)", node.start_mark)


def construct_bool(loader: Any, node: yaml.ScalarNode) -> bool:
    """A boolean of go-yaml's table (also for an explicit ``!!bool``; any other text is an error, as in Go)."""
    found = BOOLEANS.get(node.value)
    if found is None:
        raise _not_as_kubectl(node, "a boolean")
    return found


def construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    found = go_int(node.value)
    if found is None:
        raise _not_as_kubectl(node, "an integer")
    return found


def construct_float(loader: Any, node: yaml.ScalarNode) -> float:
    """A float as go-yaml reads it (an integer text too, as an explicit ``!!float`` allows); a non-finite one is
    returned as such, for the reader to refuse with its key path."""
    text = node.value
    if text in NON_FINITE:
        return NON_FINITE[text]
    as_int = go_int(text)
    found = float(as_int) if as_int is not None else go_float(text)
    if found is None:
        raise _not_as_kubectl(node, "a finite number")
    return found


CONSTRUCTORS = {BOOL_TAG: construct_bool, INT_TAG: construct_int, FLOAT_TAG: construct_float}
"""The scalar constructors a kubectl-reading loader class registers (null and str are PyYAML's own)."""
