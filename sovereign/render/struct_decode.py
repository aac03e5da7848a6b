"""``json_format.MessageToDict`` for ``google.protobuf.Struct``, without the generic printer.

Why: the policy servicer (in-process transport) and the render's recorder turn every resource's properties
``Struct`` into a dict, and protobuf's generic printer walks each value through descriptor lookups
(``_FieldToJsonObject``), several Python calls per leaf. For a ``Struct`` the result is fixed by the Proto3 JSON
mapping of ``Value``, which this module writes out directly: the same dicts (keys in the map's iteration order),
lists, floats, strings, booleans and ``None``, and the same ``ValueError`` for an infinite or NaN number.
``tests/policies/test_struct_decode.py`` compares it with ``MessageToDict`` on random values after a wire round
trip.
"""

from __future__ import annotations

import math
from typing import Any


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """What ``json_format.MessageToDict(struct)`` returns for a ``google.protobuf.Struct``."""
    fields = struct.fields
    return {key: _value(fields[key]) for key in fields}


def _value(message: Any) -> Any:
    which = message.WhichOneof("kind")
    if which == "string_value":
        return message.string_value
    if which == "struct_value":
        return struct_to_dict(message.struct_value)
    if which == "number_value":
        number = message.number_value
        if math.isinf(number):
            raise ValueError("Fail to serialize Infinity for Value.number_value, which would parse as string_value")
        if math.isnan(number):
            raise ValueError("Fail to serialize NaN for Value.number_value, which would parse as string_value")
        return number
    if which == "bool_value":
        return message.bool_value
    if which == "list_value":
        return [_value(item) for item in message.list_value.values]
    return None  # null_value, or no kind set: the printer treats both as null
