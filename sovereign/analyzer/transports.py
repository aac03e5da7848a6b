"""How ``sovereign check`` and ``diff`` reach the policy pack (a module of its own so the CLI can offer the choice
without importing the pack's libraries)."""

from __future__ import annotations

TRANSPORTS = ("in-process", "grpc")
"""How the pack is reached: its own servicer called in this process (default, fast), or a pack process over
the analyzer gRPC protocol exactly as ``pulumi preview --policy-pack`` starts it. Same requests, same answers
(sovereign/analyzer/in_process.py says what differs and why it cannot change a finding)."""
