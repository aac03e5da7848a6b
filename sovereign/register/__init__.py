"""The data-flow register of processing: per data class, where it is stored, who reads and writes it, every path by
which it can leave the cluster and every cross-border flow with its approval, from one render and the catalog
(docs/register.md). ``sovereign.register.build.build_register`` builds one; ``Register.to_json`` is its data."""
