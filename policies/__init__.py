"""CrossGuard residency policy pack and its jurisdiction catalog data (policies/catalog/)."""
