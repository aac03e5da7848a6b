"""sovereign-clusters core: catalog, stack configuration, connectivity proof and offline tooling.

Pure functions over data live here; Pulumi, gRPC, files and the terminal stay at the edges.
"""
