"""Input problems reported as findings: rule ``invalid-input``.

A stack file that does not validate, a catalog or organisation file that does not load, duplicate objects in the
input: the command still marks bad input with exit status 2, but the problem is also a finding, with its file and
line, in every report format (SARIF, JUnit, Markdown, JSON, text, GitHub annotations), so that CI shows it where a
reviewer looks instead of one line on stderr. The id is not a rule of the pack: `--rule`/`--skip-rule` and the
pack's configuration never select it away.
"""

from __future__ import annotations

from sovereign.check.model import ResourceRef, Violation

INVALID_INPUT = "invalid-input"
INVALID_INPUT_DESCRIPTION = (
    "Input the check could not read as the Pulumi CLI and the API server would: a stack file, the catalog or the "
    "organisation's layer failing its schema, duplicate objects. Nothing in that input was judged."
)


def invalid_input(stack: str, source: str, line: int, message: str,
                  resource: ResourceRef | None = None) -> Violation:
    """A mandatory, high-severity finding of rule ``invalid-input`` at ``source``:``line``."""
    return Violation(
        stack=stack,
        policy=INVALID_INPUT,
        resource=resource or ResourceRef(),
        message=message,
        enforcement="mandatory",
        severity="high",
        source=source,
        line=max(1, line),
    )
