"""How ``sovereign check`` and ``diff`` reach the policy pack (a module of its own so the CLI can offer the choice
without importing the pack's libraries)."""

from __future__ import annotations

TRANSPORTS = ("in-process", "grpc")
"""``in-process`` (default): the pack's rules run directly in this process when the pack offers a direct entry
point (sovereign/check/direct_pack.py; other packs run over gRPC); ``grpc``: a pack process spoken to over the
analyzer protocol exactly as ``pulumi preview --policy-pack`` starts it. Same findings either way
(tests/policies/test_conformance.py)."""
