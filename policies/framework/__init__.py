"""Shared machinery of the residency rules: context, object views, the fail-closed guard and the SDK adapter."""
