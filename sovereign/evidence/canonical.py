"""The one byte form of every JSON file in a bundle, and its digest.

Why one form: a bundle must be byte-identical for the same inputs and ``--at`` (docs/evidence.md), and a verifier
compares a re-derived document with the bundled one byte for byte: sorted keys, two-space indent, UTF-8, one
trailing newline (the form ``sovereign check --format json`` already writes).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def json_bytes(doc: Any) -> bytes:
    """``doc`` as the bundle writes it."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
