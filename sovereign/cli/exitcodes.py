"""Exit codes shared by every subcommand."""

CLEAN = 0
"""Nothing mandatory failed."""
VIOLATIONS = 1
"""At least one mandatory violation (or a denied/cross-border answer where the command says so)."""
BAD_INPUT = 2
"""Bad input: a clear error was printed and nothing was written."""
