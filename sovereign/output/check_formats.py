"""Check reports as text, JSON, SARIF 2.1.0, JUnit XML and Markdown. Pure functions of the report: the same
report gives the same bytes (no timestamps unless ``--at`` was given, sorted everything)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from sovereign.check.inventory import Inventory
from sovereign.check.model import CheckReport, StackResult, Violation

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "sovereign-check"
INFORMATION_URI = "https://sovereign-clusters.dev/docs/cli"


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------------------- text
def to_text(report: CheckReport) -> str:
    out = [
        f"sovereign check: {_pack(report)}, {len(report.stacks)} stack(s), "
        f"{sum(s.resources for s in report.stacks)} resources" + (f", evaluated at {report.at}" if report.at else "")
    ]
    if report.catalog:
        out.append("catalog: " + "; ".join(layer.describe() for layer in report.catalog))
    for stack in report.stacks:
        mandatory = sum(1 for v in stack.violations if v.mandatory)
        if stack.judged:
            out.append(f"{stack.stack}: {len(stack.violations)} violation(s): {mandatory} mandatory, "
                       f"{len(stack.violations) - mandatory} advisory")
        else:
            out.append(f"{stack.stack}: NOT JUDGED: its input could not be read ({len(stack.violations)} problem(s))")
        for v in stack.violations:
            out.append(f"  [{v.enforcement}] {v.policy}  {v.resource.label()}  ({v.source}:{v.line})")
            out.extend(f"      {line}" for line in v.message.splitlines())
        for t in stack.transfers:
            out.append(f"  transfer {t.id} [{t.state}]: {t.approval_reference} ({t.regulator}), {t.covers()} to "
                       f"{t.destination}, valid {t.valid_from} to {t.valid_until}"
                       + (f"; scope: {t.scope}" if t.scope else ""))
        out.extend(f"  {line}" for line in _inventory_lines(stack.inventory))
    out.extend(f"note: {n}" for n in report.notes)
    if report.disabled_policies:
        out.append(f"not run (disabled): {', '.join(report.disabled_policies)}")
    out.append(verdict_line(report))
    return "\n".join(out) + "\n"


def _pack(report: CheckReport) -> str:
    return f"{report.pack_name}@{report.pack_version}" if report.pack_name else "policy pack not run"


def verdict_line(report: CheckReport) -> str:
    """The one-line verdict (text reports end with it; ``make check`` prints it): mandatory and advisory apart,
    and what may leave (transfers active at the evaluation time)."""
    n, advisory = report.mandatory_count, report.advisory_count
    counts = f"{n} mandatory, {advisory} advisory"
    leaving = len(report.active_transfers)
    tail = f"; {leaving} active transfer(s)" + (f"; evaluated at {report.at}" if report.at else "")
    if report.bad_input:
        return (f"ERROR: input of {len(report.unjudged_stacks)} stack(s) could not be read "
                f"({', '.join(report.unjudged_stacks)}): not judged; {counts}{tail}")
    if not n:
        return f"PASS: {counts}{tail}"
    return f"FAIL: {counts}{tail}" + (" (--soft-fail: exit 0)" if report.soft_fail else "")


def _inventory_lines(inventory: Inventory | None) -> list[str]:
    if inventory is None:
        return []
    lines = [f"inventory: {inventory.summary_line()}"]
    for c in inventory.carve_outs:
        e = c.exemption
        lines.append(f"carve-out #{e.index} ({'active' if c.active else 'EXPIRED'} until {e.expires.isoformat()}, "
                     f"approved by {e.approver}): {e.selector()}: {e.reason}; covers "
                     f"{', '.join(c.objects) or 'no object'}")
    for sup in inventory.suppressed:
        lines.append(f"suppressed [{sup.rule}] {sup.subject} (exemption #{sup.exemption_index}, approved by "
                     f"{sup.approver}, until {sup.expires}): {sup.finding}")
    return lines


# ------------------------------------------------------------------------------------------------- JSON
def to_json(report: CheckReport) -> str:
    return _json(report.to_json())


# ------------------------------------------------------------------------------------------------ SARIF
def _sarif_level(v: Violation) -> str:
    return "error" if v.mandatory else "warning"


SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
"""GitHub code scanning ranks results by a rule's ``security-severity`` (a CVSS-like score; critical > 9.0,
high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9): the pack's severity mapped to a score inside each band."""
_DIGITS = re.compile(r"\d+")


def _fingerprint(*parts: str) -> str:
    """Stable across runs, line moves and days passing: what was violated, by which resource, in which stack, and
    the message with its numbers blanked (a warning's "expires in 15 day(s)" is the same alert tomorrow)."""
    key = "\x1f".join((*parts[:-1], _DIGITS.sub("#", parts[-1])))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _location(source: str, line: int) -> dict[str, Any]:
    """A physical location; a relative path is relative to the repository root (``%SRCROOT%``)."""
    artifact: dict[str, Any] = {"uri": source or "stacks"}
    if not artifact["uri"].startswith("/"):
        artifact["uriBaseId"] = "%SRCROOT%"
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": max(1, line)}}}


def to_sarif(report: CheckReport) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one rule per policy, one result per violation, located in the
    stack file (or manifest) a reviewer edits; the resource URN as a logical location."""
    rules = []
    index: dict[str, int] = {}
    names = sorted({p.name for p in report.policies} | {v.policy for v in report.violations})
    for i, name in enumerate(names):
        index[name] = i
        p = report.policy(name)
        rule: dict[str, Any] = {
            "id": name,
            "name": name,
            "shortDescription": {"text": (p.description if p and p.description else name)},
            "defaultConfiguration": {
                "level": "error" if p is None or p.enforcement != "advisory" else "warning"
            },
            "properties": {"tags": ["security", "residency", "kubernetes"]},
        }
        if p and p.remediation:
            rule["help"] = {"text": p.remediation}
        if p:
            rule["properties"]["enforcement"] = p.enforcement
            if p.severity:
                rule["properties"]["severity"] = p.severity
            if p.severity in SECURITY_SEVERITY:
                rule["properties"]["security-severity"] = SECURITY_SEVERITY[p.severity]
        rules.append(rule)
    results = []
    for v in report.violations:
        result: dict[str, Any] = {
            "ruleId": v.policy,
            "ruleIndex": index[v.policy],
            "level": _sarif_level(v),
            "message": {"text": f"{v.stack}: {v.resource.label()}: {v.message}"},
            "locations": [
                {
                    **_location(v.source, v.line),
                    "logicalLocations": [
                        {"fullyQualifiedName": v.resource.urn or f"{v.stack}::stack", "kind": "resource"}
                    ],
                }
            ],
            "partialFingerprints": {
                "sovereignViolation/v2": _fingerprint(v.stack, v.policy, v.resource.urn or v.resource.label(),
                                                      v.message)
            },
            "properties": {"stack": v.stack, "enforcement": v.enforcement},
        }
        if v.severity:
            result["properties"]["severity"] = v.severity
        results.append(result)
    for stack in report.stacks:
        for sup in stack.inventory.suppressed if stack.inventory else ():
            if sup.rule not in index:
                continue
            results.append({
                "ruleId": sup.rule,
                "ruleIndex": index[sup.rule],
                "level": "error",
                "message": {"text": f"{stack.stack}: {sup.subject}: {sup.finding}"},
                "locations": [_location(sup.source or stack.source, sup.line)],
                "suppressions": [{"kind": "external", "status": "accepted",
                                  "justification": f"{sup.reason} (approved by {sup.approver}, until {sup.expires})"}],
                "partialFingerprints": {
                    "sovereignViolation/v2": _fingerprint(stack.stack, sup.rule, sup.subject, sup.finding)
                },
                "properties": {"stack": stack.stack},
            })
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "semanticVersion": report.pack_version or "0.0.0",
                "informationUri": INFORMATION_URI,
                "rules": rules,
                "properties": {"policyPack": f"{report.pack_name}@{report.pack_version}"},
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "automationDetails": {"id": "sovereign-check/"},
    }
    properties: dict[str, Any] = {}
    if report.at:
        properties["evaluationTime"] = report.at
    if report.catalog:
        properties["catalog"] = [layer.to_json() for layer in report.catalog]
    transfers = {s.stack: [t.to_json() for t in s.transfers] for s in report.stacks if s.transfers}
    if transfers:
        properties["transfers"] = transfers
    properties["counts"] = {"mandatory": report.mandatory_count, "advisory": report.advisory_count}
    if report.bad_input:
        properties["unjudgedStacks"] = report.unjudged_stacks
    inventories = {s.stack: s.inventory.to_json() for s in report.stacks if s.inventory is not None}
    if inventories:
        properties["inventory"] = inventories
    if properties:
        run["properties"] = properties
    return _json({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})


# ------------------------------------------------------------------------------------------------ JUnit
def to_junit(report: CheckReport) -> str:
    """One test suite per stack, one test case per policy; a mandatory violation fails its case, advisory
    ones are listed in ``system-out``."""
    policies = sorted({p.name for p in report.policies} | {v.policy for v in report.violations})
    root = ET.Element("testsuites", name="sovereign check")
    total = failures = 0
    errors = 0
    for stack in report.stacks:
        suite = ET.SubElement(root, "testsuite", name=stack.stack)
        props = ET.SubElement(suite, "properties")
        for name, value in _junit_properties(report, stack):
            ET.SubElement(props, "property", name=name, value=value)
        if not stack.judged:
            # Nothing was judged: one case in error per problem (a JUnit error, not a test failure).
            for v in stack.violations:
                case = ET.SubElement(suite, "testcase", classname=stack.stack, name=v.policy)
                error = ET.SubElement(case, "error", type=v.policy, message=f"{v.source}:{v.line}")
                error.text = v.message
            suite.set("tests", str(len(stack.violations)))
            suite.set("failures", "0")
            suite.set("errors", str(len(stack.violations)))
            total += len(stack.violations)
            errors += len(stack.violations)
            continue
        if stack.inventory is not None:
            inv = stack.inventory.to_json()
            for key in ("objects", "judged", "inert", "unjudged", "carvedOut"):
                ET.SubElement(props, "property", name=f"inventory.{key}", value=str(inv[key]))
            lines = _inventory_lines(stack.inventory)
            if len(lines) > 1:
                out_el = ET.SubElement(suite, "system-out")
                out_el.text = "\n".join(lines)
        suite_failures = 0
        for policy in policies:
            case = ET.SubElement(suite, "testcase", classname=f"{stack.stack}", name=policy)
            found = [v for v in stack.violations if v.policy == policy]
            mandatory = [v for v in found if v.mandatory]
            if mandatory:
                suite_failures += 1
                failure = ET.SubElement(
                    case, "failure", type="mandatory", message=f"{len(mandatory)} mandatory violation(s)"
                )
                failure.text = "\n".join(f"{v.resource.label()}: {v.message}" for v in mandatory)
            advisory = [v for v in found if not v.mandatory]
            if advisory:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"[advisory] {v.resource.label()}: {v.message}" for v in advisory)
        suite.set("tests", str(len(policies)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += len(policies)
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_properties(report: CheckReport, stack: StackResult) -> list[tuple[str, str]]:
    """The evaluation time, the catalog's layers and the stack's transfers (with their state)."""
    out = [("evaluationTime", report.at)] if report.at else []
    out += [(f"catalog.{layer.layer}", layer.describe()) for layer in report.catalog]
    out += [(f"transfer.{t.id}", f"{t.state}: {t.approval_reference} ({t.regulator}), {t.covers()} to "
             f"{t.destination}, {t.valid_from} to {t.valid_until}; scope: {t.scope}") for t in stack.transfers]
    return out


# --------------------------------------------------------------------------------------------- Markdown
def md_cell(text: str) -> str:
    """Safe in a GitHub table cell: pipes escaped, newlines as <br>, HTML angle brackets neutralised."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "")
        .replace("\n", "<br>")
    )


def to_markdown(report: CheckReport) -> str:
    n = report.mandatory_count
    if report.bad_input:
        head = f"## Residency check: ⛔ input could not be read ({', '.join(report.unjudged_stacks)}): not judged"
    else:
        head = f"## Residency check: {'❌ ' + str(n) + ' mandatory violation(s)' if n else '✅ passed'}"
    if n and report.soft_fail:
        head += " (soft-fail: not blocking)"
    lines = [head, "", verdict_line(report), ""]
    meta = (
        f"Policy pack `{_pack(report)}` · {len(report.stacks)} stack(s) · "
        f"{sum(s.resources for s in report.stacks)} resources"
    )
    if report.at:
        meta += f" · evaluated at `{report.at}`"
    if report.catalog:
        meta += " · catalog: " + "; ".join(md_cell(layer.describe()) for layer in report.catalog)
    lines += [meta, "", "| Stack | Resources | Mandatory | Advisory | Active transfers |", "|---|---:|---:|---:|---:|"]
    for s in report.stacks:
        mandatory = sum(1 for v in s.violations if v.mandatory)
        if not s.judged:
            lines.append(f"| `{s.stack}` | ⛔ not judged | {mandatory} | {len(s.violations) - mandatory} | — |")
            continue
        active = sum(1 for t in s.transfers if t.state == "active")
        lines.append(f"| `{s.stack}` | {s.resources} | {mandatory} | {len(s.violations) - mandatory} | {active} |")
    transfers = [(s.stack, t) for s in report.stacks for t in s.transfers]
    if transfers:
        lines += ["", "**What may leave** (cross-border transfers the stacks declare, at the evaluation time)", "",
                  "| Stack | Transfer | State | Approval | Regulator | Scope | Data and senders | To | Valid |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for stack, t in transfers:
            state = {"active": "✅ active", "pending": "⏳ pending", "expired": "❌ expired"}.get(t.state, t.state)
            lines.append(f"| `{stack}` | `{t.id}` | {state} | {md_cell(t.approval_reference)} | "
                         f"{md_cell(t.regulator)} | {md_cell(t.scope)} | {md_cell(t.covers())} | {t.destination} | "
                         f"{t.valid_from} → {t.valid_until} |")
    for s in report.stacks:
        if s.inventory is not None:
            inv = s.inventory
            lines += ["", f"**`{s.stack}` inventory:** {md_cell(inv.summary_line())}"]
            if inv.carve_outs:
                lines += ["", "| Carve-out | Status | Approver | Expires | Covers | Reason |",
                          "|---|---|---|---|---|---|"]
                for c in inv.carve_outs:
                    e = c.exemption
                    lines.append(f"| #{e.index} {md_cell(e.selector())} | {'active' if c.active else '❌ expired'} | "
                                 f"{md_cell(e.approver)} | {e.expires.isoformat()} | "
                                 f"{md_cell(', '.join(c.objects) or '—')} | {md_cell(e.reason)} |")
            if inv.suppressed:
                lines += ["", "| Suppressed | Resource | Finding | Exemption |", "|---|---|---|---|"]
                for sup in inv.suppressed:
                    lines.append(f"| `{sup.rule}` | {md_cell(sup.subject)} | {md_cell(sup.finding)} | "
                                 f"#{sup.exemption_index} by {md_cell(sup.approver)} until {sup.expires} |")
    for s in report.stacks:
        if not s.violations:
            continue
        lines += [
            "",
            f"### `{s.stack}`",
            "",
            "| | Policy | Resource | Finding | Where |",
            "|---|---|---|---|---|",
        ]
        for v in s.violations:
            icon = "❌" if v.mandatory else "⚠️"
            lines.append(
                f"| {icon} {v.enforcement} | `{v.policy}` | {md_cell(v.resource.label())} | "
                f"{md_cell(v.message)} | `{v.source}:{v.line}` |"
            )
    if report.notes:
        lines += [""] + [f"> {md_cell(note)}" for note in report.notes]
    if report.disabled_policies:
        lines += ["", "Not run (disabled): " + ", ".join(f"`{p}`" for p in report.disabled_policies)]
    if report.policies:
        lines += [
            "",
            f"<details><summary>Policies checked ({len(report.policies)})</summary>",
            "",
            "| Policy | Enforcement | Severity | Protects |",
            "|---|---|---|---|",
        ]
        for p in report.policies:
            lines.append(f"| `{p.name}` | {p.enforcement} | {p.severity} | {md_cell(p.description)} |")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- GitHub
def _command_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,`` escaped."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(level: str, file: str, line: int, title: str, message: str) -> str:
    where = f"file={_command_property(file)},line={max(1, line)}," if file else ""
    return f"::{level} {where}title={_command_property(title)}::{_command_data(message)}"


def to_github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: one annotation per finding on its file and line (``error`` mandatory,
    ``warning`` advisory, ``notice`` suppressed by an exemption), then the verdict line. Printed in a workflow
    step, each becomes an annotation on the pull request's changed lines."""
    out = []
    for v in report.violations:
        out.append(_annotation("error" if v.mandatory else "warning", v.source, v.line,
                               f"{v.policy} ({v.stack})", f"{v.resource.label()}: {v.message}"))
    for stack in report.stacks:
        for sup in stack.inventory.suppressed if stack.inventory else ():
            out.append(_annotation("notice", sup.source or stack.source, sup.line,
                                   f"suppressed {sup.rule} ({stack.stack})",
                                   f"{sup.subject}: {sup.finding} [exemption #{sup.exemption_index} approved by "
                                   f"{sup.approver} until {sup.expires}: {sup.reason}]"))
    out.append(verdict_line(report))
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[CheckReport], str]] = {  # text first: the default
    "text": to_text,
    "json": to_json,
    "sarif": to_sarif,
    "junit": to_junit,
    "markdown": to_markdown,
    "github": to_github,
}
