"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1.0.0) signed with Ed25519.

The signature covers ``PAE(payloadType, payload)``, the spec's pre-authentication encoding, so neither the payload
nor its type can be swapped under a valid signature. ``keyid`` is a hint only (the spec forbids basing a decision
on it): here the SHA-256 of the public key's DER SubjectPublicKeyInfo, which lets the verifier say "signed by
another key" instead of "signature invalid".
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sovereign.evidence.canonical import sha256_hex

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
"""The payload type of an in-toto attestation in a DSSE envelope (in-toto attestation framework, envelope.md)."""


def pae(payload_type: str, body: bytes) -> bytes:
    """``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths as ASCII decimal byte counts."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return sha256_hex(der)


def sign_envelope(payload: bytes, payload_type: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The JSON envelope of ``payload`` with one signature (Ed25519 is deterministic: same key, same bytes)."""
    signature = key.sign(pae(payload_type, payload))
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [{"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}],
    }


class EnvelopeError(ValueError):
    """The envelope cannot be decoded (the message says what is wrong with it)."""


@dataclass(frozen=True)
class Opened:
    payload: bytes
    payload_type: str
    signed_by_key: bool
    """A signature of the envelope verifies against the key given."""
    key_ids: tuple[str, ...]
    """The ``keyid`` hints of its signatures (unauthenticated)."""


def _b64(text: Any, what: str) -> bytes:
    """Standard or URL-safe base64, as the spec requires verifiers to accept."""
    if not isinstance(text, str):
        raise EnvelopeError(f"{what} is not a base64 string")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded.encode("ascii"))
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise EnvelopeError(f"{what} is not valid base64") from None


def open_envelope(envelope: Any, public_key: Ed25519PublicKey) -> Opened:
    """Decode the envelope and check its signatures against ``public_key`` (decoding problems: EnvelopeError)."""
    if not isinstance(envelope, Mapping):
        raise EnvelopeError("the envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise EnvelopeError("payloadType is missing or not a string")
    payload = _b64(envelope.get("payload"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("signatures is missing or empty (the envelope is not signed)")
    message = pae(payload_type, payload)
    signed, ids = False, []
    for i, entry in enumerate(signatures):
        if not isinstance(entry, Mapping):
            raise EnvelopeError(f"signatures[{i}] is not an object")
        if isinstance(entry.get("keyid"), str):
            ids.append(entry["keyid"])
        sig = _b64(entry.get("sig"), f"signatures[{i}].sig")
        try:
            public_key.verify(sig, message)
            signed = True
        except InvalidSignature:
            continue
    return Opened(payload=payload, payload_type=payload_type, signed_by_key=signed, key_ids=tuple(ids))
