"""A resource's properties as the engine marshals them for the analyzer protocol: the ``Struct`` of their JSON
round trip (plain JSON types only, every number a double), in bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def props_struct(props: Mapping[str, Any]) -> Any:
    """``props`` as a ``google.protobuf.Struct`` (what JSON converts or refuses, it converts or refuses here)."""
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props)))
    return s


def props_wire(props: Mapping[str, Any]) -> bytes:
    """The bytes of ``props_struct(props)``, what a request's ``properties`` are parsed from."""
    return bytes(props_struct(props).SerializeToString())
