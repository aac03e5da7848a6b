"""Check reports as text, JSON, SARIF 2.1.0, JUnit XML and Markdown. Pure functions of the report: the same
report gives the same bytes (no timestamps unless ``--at`` was given, sorted everything)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from sovereign.check.inventory import Inventory
from sovereign.check.model import CheckReport, Violation

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "sovereign-check"
INFORMATION_URI = "https://sovereign-clusters.dev/docs/cli"


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------------------- text
def to_text(report: CheckReport) -> str:
    out = [
        f"sovereign check: {report.pack_name}@{report.pack_version}, {len(report.stacks)} stack(s), "
        f"{sum(s.resources for s in report.stacks)} resources" + (f", at {report.at}" if report.at else "")
    ]
    for stack in report.stacks:
        mandatory = sum(1 for v in stack.violations if v.mandatory)
        out.append(f"{stack.stack}: {len(stack.violations)} violation(s), {mandatory} mandatory")
        for v in stack.violations:
            out.append(f"  [{v.enforcement}] {v.policy}  {v.resource.label()}  ({v.source}:{v.line})")
            out.extend(f"      {line}" for line in v.message.splitlines())
        out.extend(f"  {line}" for line in _inventory_lines(stack.inventory))
    out.extend(f"note: {n}" for n in report.notes)
    if report.disabled_policies:
        out.append(f"not run (disabled): {', '.join(report.disabled_policies)}")
    out.append(verdict_line(report))
    return "\n".join(out) + "\n"


def verdict_line(report: CheckReport) -> str:
    """The one-line verdict (text reports end with it; ``make check`` prints it)."""
    n = report.mandatory_count
    advisory = len(report.violations) - n
    tail = f", {advisory} advisory" if advisory else ""
    if not n:
        return f"PASS: no mandatory violations{tail}"
    return f"FAIL: {n} mandatory violation(s){tail}" + (" (--soft-fail: exit 0)" if report.soft_fail else "")


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
    return _json({"violations": [v.to_json() for v in report.violations], "summary": report.summary()})


# ------------------------------------------------------------------------------------------------ SARIF
def _sarif_level(v: Violation) -> str:
    return "error" if v.mandatory else "warning"


def _fingerprint(v: Violation) -> str:
    """Stable across runs and line moves: what was violated, by which resource, in which stack."""
    key = "\x1f".join((v.stack, v.policy, v.resource.urn or v.resource.label(), v.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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
            "properties": {"tags": ["residency", "kubernetes"]},
        }
        if p and p.remediation:
            rule["help"] = {"text": p.remediation}
        if p:
            rule["properties"]["enforcement"] = p.enforcement
            if p.severity:
                rule["properties"]["severity"] = p.severity
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
                    "physicalLocation": {
                        "artifactLocation": {"uri": v.source or "stacks"},
                        "region": {"startLine": max(1, v.line)},
                    },
                    "logicalLocations": [
                        {"fullyQualifiedName": v.resource.urn or f"{v.stack}::stack", "kind": "resource"}
                    ],
                }
            ],
            "partialFingerprints": {"sovereignViolation/v1": _fingerprint(v)},
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
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": stack.source or "stacks"},
                                                    "region": {"startLine": 1}}}],
                "suppressions": [{"kind": "external", "status": "accepted",
                                  "justification": f"{sup.reason} (approved by {sup.approver}, until {sup.expires})"}],
                "partialFingerprints": {"sovereignViolation/v1": hashlib.sha256(
                    "\x1f".join((stack.stack, sup.rule, sup.subject, sup.finding)).encode("utf-8")).hexdigest()},
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
    for stack in report.stacks:
        suite = ET.SubElement(root, "testsuite", name=stack.stack)
        if stack.inventory is not None:
            props = ET.SubElement(suite, "properties")
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
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
    head = f"## Residency check: {'❌ ' + str(n) + ' mandatory violation(s)' if n else '✅ passed'}"
    if n and report.soft_fail:
        head += " (soft-fail: not blocking)"
    lines = [head, ""]
    meta = (
        f"Policy pack `{report.pack_name}@{report.pack_version}` · {len(report.stacks)} stack(s) · "
        f"{sum(s.resources for s in report.stacks)} resources"
    )
    if report.at:
        meta += f" · evaluated at `{report.at}`"
    lines += [meta, "", "| Stack | Resources | Mandatory | Advisory |", "|---|---:|---:|---:|"]
    for s in report.stacks:
        mandatory = sum(1 for v in s.violations if v.mandatory)
        lines.append(f"| `{s.stack}` | {s.resources} | {mandatory} | {len(s.violations) - mandatory} |")
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


RENDERERS: dict[str, Callable[[CheckReport], str]] = {  # text first: the default
    "text": to_text,
    "json": to_json,
    "sarif": to_sarif,
    "junit": to_junit,
    "markdown": to_markdown,
}
