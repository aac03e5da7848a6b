"""JSON Schema validators with their ``$ref``s followed once, when built, instead of on every validation.

Why: the Kubernetes schemas are almost all ``$ref`` (a Deployment reaches ~150 definitions through ~1,200 of
them), and jsonschema resolves a ``$ref`` on every visit: a URI join, a registry lookup, a JSON-pointer walk
and a new validator object, which is ~40 % of validating a rendered manifest. Here each ``{"$ref": ...}``
whose other keys are only annotations is replaced, in a copy of the schema, by (the copy of) its target,
so the validator walks plain subschemas.

The same library still judges every instance, with the same keywords in the same order: jsonschema leaves
``$ref`` out of an error's schema path, so errors, their paths and ``best_match`` come out the same
(``tests/schemas/test_inlined_refs.py`` compares them on real schemas and random instances). A ``$ref`` is
left as written wherever inlining could change a result or a message:

* it has validating siblings, or points at an anchor, or at something the registry does not hold;
* its target is being inlined already (a recursive schema: the copy would be infinite);
* it sits under ``not`` or ``oneOf``, whose messages print their subschemas;
* anything on the way uses ``$id`` below a document's root, ``$anchor`` or dynamic references (base-URI
  bookkeeping that is jsonschema's job, not ours).

A subschema that keeps a relative ``$ref`` is only ever inlined into its own document, where that ``$ref``
still resolves against the same base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

ANNOTATIONS = frozenset(
    {"description", "title", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly"}
)
"""Keywords that never affect validation; with ``x-*`` extensions, the only siblings a ``$ref`` may have to be
inlined (jsonschema reports errors inside a ``$ref`` against its target, never its siblings)."""
ONE_SCHEMA = frozenset(
    {
        "additionalProperties",
        "contains",
        "contentSchema",
        "else",
        "if",
        "items",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
SCHEMA_LIST = frozenset({"allOf", "anyOf", "prefixItems"})
SCHEMA_MAP = frozenset({"$defs", "dependentSchemas", "patternProperties", "properties"})
VERBATIM = frozenset({"not", "oneOf"})
"""Their messages include ``repr`` of their subschemas: left exactly as written."""
BASE_BOOKKEEPING = frozenset(
    {"$id", "$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveAnchor", "$recursiveRef"}
)

_Key = tuple[int, str]


def _only_annotations(node: Mapping[str, Any]) -> bool:
    return all(k == "$ref" or k in ANNOTATIONS or k.startswith("x-") for k in node)


def _mentions_references(value: Any) -> bool:
    """Whether a subtree (read as plain JSON, not as a schema) holds any ``$ref`` or base bookkeeping."""
    if isinstance(value, Mapping):
        return any(k == "$ref" or k in BASE_BOOKKEEPING for k in value) or any(
            _mentions_references(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(_mentions_references(v) for v in value)
    return False


class _Inliner:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._done: dict[_Key, tuple[Any, bool]] = {}
        self._in_progress: set[_Key] = set()

    def schema(self, node: Any, base: str, *, root: bool = False) -> tuple[Any, bool]:
        """(the copy, whether it keeps a ``$ref`` that resolves against ``base``)."""
        if not isinstance(node, Mapping):
            return node, False  # true/false schemas, or a malformed value jsonschema will judge as written
        key = (id(node), base)
        if key in self._done:
            return self._done[key]
        if any(k in BASE_BOOKKEEPING for k in node if not (root and k == "$id")):
            result: tuple[Any, bool] = (node, True)
        else:
            self._in_progress.add(key)
            result = self._reference(node, base) or self._copy(node, base)
            self._in_progress.discard(key)
        self._done[key] = result
        return result

    def _reference(self, node: Mapping[str, Any], base: str) -> tuple[Any, bool] | None:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not _only_annotations(node):
            return None
        target = self._target(ref, base)
        if target is None:
            return None
        target_node, target_base = target
        if (id(target_node), target_base) in self._in_progress:
            return None  # recursion: keep this $ref
        inlined, keeps_relative = self.schema(target_node, target_base)
        if keeps_relative and target_base != base:
            return None  # its remaining $refs resolve only inside its own document
        return inlined, keeps_relative

    def _target(self, ref: str, base: str) -> tuple[Any, str] | None:
        """What ``ref`` points at and its document's URI, if it is a JSON pointer the registry can follow
        without crossing an ``$id``; else None (the ``$ref`` stays for jsonschema to resolve)."""
        uri, fragment = urldefrag(urljoin(base, ref))
        if fragment and not fragment.startswith("/"):
            return None  # an anchor
        try:
            document = self._registry.contents(uri)
        except NoSuchResource:
            return None
        node = document
        for raw in unquote(fragment).split("/")[1:]:
            segment = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and segment in node:
                node = node[segment]
            elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                node = node[int(segment)]
            else:
                return None
            if isinstance(node, Mapping) and any(k in BASE_BOOKKEEPING for k in node):
                return None
        return node, uri

    def _copy(self, node: Mapping[str, Any], base: str) -> tuple[dict[str, Any], bool]:
        out: dict[str, Any] = {}
        keeps = isinstance(node.get("$ref"), str)
        for keyword, value in node.items():
            if keyword in VERBATIM:
                out[keyword] = value
                keeps = keeps or _mentions_references(value)
            elif keyword in ONE_SCHEMA:
                out[keyword], k = self.schema(value, base)
                keeps = keeps or k
            elif keyword in SCHEMA_LIST and isinstance(value, list):
                items = [self.schema(item, base) for item in value]
                out[keyword] = [item for item, _ in items]
                keeps = keeps or any(k for _, k in items)
            elif keyword in SCHEMA_MAP and isinstance(value, Mapping):
                entries = {name: self.schema(sub, base) for name, sub in value.items()}
                out[keyword] = {name: sub for name, (sub, _) in entries.items()}
                keeps = keeps or any(k for _, k in entries.values())
            else:
                out[keyword] = value  # value keywords (type, enum, required...) and unknown keywords
        return out, keeps


def inline_refs(schema: Mapping[str, Any], registry: Registry | None = None) -> dict[str, Any]:
    """A copy of a draft 2020-12 ``schema`` with its inlinable ``$ref``s replaced by their targets.

    ``registry`` holds the other documents the schema refers to (the schema itself is added under its
    ``$id``, as jsonschema does). The result shares subschemas between the places that referred to them, so
    it stays about as small as the documents it came from; treat it as read-only.
    """
    root_uri = str(schema.get("$id", ""))
    resource: Resource[Any] = Resource.from_contents(dict(schema), default_specification=DRAFT202012)
    known = (registry or Registry()).with_resource(root_uri, resource)
    inlined, _ = _Inliner(known).schema(resource.contents, root_uri, root=True)
    assert isinstance(inlined, dict)
    return inlined


def inlined_validator(schema: Mapping[str, Any], registry: Registry | None = None) -> Draft202012Validator:
    """``Draft202012Validator(schema, registry=registry)`` over the inlined schema: same verdicts and errors."""
    if registry is None:
        return Draft202012Validator(inline_refs(schema))
    return Draft202012Validator(inline_refs(schema, registry), registry=registry)
