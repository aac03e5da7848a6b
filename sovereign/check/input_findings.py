"""Input problems reported as findings: rule ``invalid-input`` (and ``check-error`` for a tool that failed).

A stack file that does not validate, a catalog or organisation file that does not load, a manifest that is not
YAML, duplicate objects in the input: the command still marks bad input with exit status 2 (duplicates: 1, the
input was judged), but each problem is also a finding, with its file and line, in every report format (SARIF,
JUnit, Markdown, JSON, text, GitHub annotations), so that CI shows it where a reviewer looks instead of one line
on stderr, and no report file from an earlier run survives. These ids are not rules of the pack:
``--rule``/``--skip-rule`` and the pack's configuration never select them away.
"""

from __future__ import annotations

import re
from pathlib import Path

from sovereign.check.model import PolicyDescription, ResourceRef, Violation
from sovereign.check.repository_paths import repository_path
from sovereign.core.errors import InputError, InputErrors, ToolFailure, format_key_path, printable
from sovereign.core.yaml_locations import file_key_lines, line_of

INVALID_INPUT = "invalid-input"
INVALID_INPUT_DESCRIPTION = (
    "Input the check could not read as the Pulumi CLI and the API server would: a stack file, the catalog or the "
    "organisation's layer failing its schema, a manifest that is not YAML, duplicate objects. Nothing in a stack "
    "whose input could not be read was judged."
)
CHECK_ERROR = "check-error"
CHECK_ERROR_DESCRIPTION = (
    "A step the check depends on failed (the program under the mock runtime, the policy pack): nothing in that "
    "stack was judged."
)
CONFIG_KEY = "config"
"""Stack files hold their values under ``config:``; the program (and so every error about a value) names key
paths inside it, as ``pulumi.Config`` reads them."""
_DOCUMENT_AT = re.compile(r"^document at line (\d+)$")
_LINE_IN_FOUND = re.compile(r"\bline (\d+)\b")


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


def _line(error: InputError) -> int:
    """The line of the error's key path in its file (inside ``config:`` for a stack file); a manifest error's
    ``document at line N``; a line the found text names (a YAML syntax error); else 1."""
    path = error.key_path
    if path and isinstance(path[0], str) and (m := _DOCUMENT_AT.match(path[0])):
        return int(m.group(1))
    lines = file_key_lines(Path(error.file)) if error.file.endswith((".yaml", ".yml")) else {}
    if path and lines:
        if (path[0],) not in lines and (CONFIG_KEY, path[0]) in lines:
            path = (CONFIG_KEY, *path)
        return line_of(lines, path)
    found = _LINE_IN_FOUND.search(error.found)
    return int(found.group(1)) if found else 1


def input_error_findings(stack: str, error: InputError, base: Path | None = None) -> list[Violation]:
    """One ``invalid-input`` finding per problem of ``error`` (an ``InputErrors`` holds several), each file
    relative to ``base`` (a repository root: sovereign/check/repository_paths.py); a place that is not a file
    (``command line``) as it is."""
    out = []
    for e in error.errors if isinstance(error, InputErrors) else (error,):
        message = printable(f"{format_key_path(e.key_path)}: expected {e.expected}; found {e.found}")
        where = repository_path(e.file, base) if Path(e.file).exists() else e.file
        out.append(invalid_input(stack, where, _line(e), message))
    return out


def tool_failure_finding(stack: str, failure: ToolFailure, source: str) -> Violation:
    """A ``check-error`` finding: the stack could not be judged because a tool it needs failed."""
    return Violation(
        stack=stack,
        policy=CHECK_ERROR,
        resource=ResourceRef(),
        message="\n".join(printable(line) for line in f"{failure.what}{failure}"[-4000:].splitlines()),
        enforcement="mandatory",
        severity="high",
        source=source,
        line=1,
    )


def input_policies(violations: list[Violation]) -> list[PolicyDescription]:
    """Descriptions of the command's own ids among ``violations``, for the report's policy table and SARIF's
    rules (a finding's rule must be described where it is reported)."""
    used = {v.policy for v in violations}
    described = ((INVALID_INPUT, INVALID_INPUT_DESCRIPTION, "Fix the file at the line named; run `sovereign "
                  "validate` for stack files."),
                 (CHECK_ERROR, CHECK_ERROR_DESCRIPTION, "Read the error; run `sovereign render STACK` to see the "
                  "program's own output."))
    return [PolicyDescription(name=name, description=text, enforcement="mandatory", severity="high",
                              remediation=fix, policy_type="command")
            for name, text, fix in described if name in used]
