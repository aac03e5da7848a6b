"""``sovereign diff``: what a change does to residency first (egress, cross-border flows, storage, transfers,
policy results), then which resources and properties change."""
