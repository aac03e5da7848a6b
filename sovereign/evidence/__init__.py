"""Evidence a regulator can verify: one stack's inputs, rendered manifests, policy results and connectivity proof,
hashed into an in-toto Statement and signed in a DSSE envelope (docs/evidence.md)."""
