"""Entry point the CLI runs (``python -m pulumi.policy <engine> <packDir>`` -> runpy of this file).

Kept tiny: building the pack imports only the rule definitions; the catalog, stack config and the connectivity
engine load lazily on the first Analyze call, so start-up stays well under a second.
"""

from policies.pack import serve

serve()
