"""The analyzer protocol, as the Pulumi CLI speaks it to a CrossGuard policy pack.

``model.py``: what a pack answers (its policies, diagnostics); ``config.py``: the CLI's reconciliation of a policy
pack config; ``resource.py``: resources as the engine hands them to a pack; ``session.py`` and ``client.py``: a pack
process started and driven over gRPC exactly as ``pulumi preview --policy-pack`` does it::

    from sovereign.analyzer.client import PolicyPackProcess
    from sovereign.analyzer.resource import resource_from_manifest

    with PolicyPackProcess.start("policies", stack_config={"sovereign-clusters:jurisdiction": "cn"},
                                 stack="cn-prod") as pack:
        info = pack.get_analyzer_info()
        pack.configure({"transfer-valid": {"at": "2026-11-25"}})
        resources = [resource_from_manifest(m, stack="cn-prod") for m in manifests]
        diagnostics = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
"""
