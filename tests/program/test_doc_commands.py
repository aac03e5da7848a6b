"""Every `pulumi ...` command in README.md and docs/ parses under the Pulumi CLI's argument rules.

The rules are transcribed from the CLI's cobra commands (pulumi/pulumi ``pkg/cmd/pulumi/``: ``auth/login.go``,
``install/install.go``, ``stack/stack_select.go``, ``stack/stack_init.go``, ``config/config.go`` (``set``),
``operations/preview.go``, ``up.go``, ``destroy.go``, ``plugin/plugin_install.go``, ``state/state_unprotect.go``)
for the flags and positional arguments our documents use; cobra/pflag semantics: a flag may come anywhere,
``--flag=value`` or ``--flag value``, boolean flags take no value, and everything after ``--`` is positional.
A command the table does not know is a failure (closed world): add its rules from the source, not a guess.
Inline code that ends in a flag needing a value (`pulumi preview --policy-pack-config`) names that flag in prose;
the flag must exist for the command, and nothing else is excused.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Rules:
    max_args: int
    min_args: int = 0
    value_flags: frozenset[str] = field(default_factory=frozenset)
    bool_flags: frozenset[str] = field(default_factory=frozenset)
    optional_value_flags: frozenset[str] = frozenset()
    """Flags with a default when given alone (pflag NoOptDefVal): ``--refresh`` or ``--refresh=false``."""


GLOBAL_VALUE = {"--cwd", "-C", "--color", "--tracing", "--tracing-header", "--profiling", "--verbose", "-v",
                "--memprofilerate", "--otel-traces"}
GLOBAL_BOOL = {"--non-interactive", "--logflow", "--logtostderr", "--emoji", "-e", "--disable-integrity-checking",
               "--fully-qualify-stack-names"}

_UPDATE_VALUE = {"--stack", "-s", "--config-file", "--message", "-m", "--policy-pack", "--policy-pack-config",
                 "--config", "-c", "--target", "-t", "--replace", "--target-replace", "--event-log",
                 "--suppress-permalink", "--attach-debugger"}
_UPDATE_BOOL = {"--config-path", "--diff", "--debug", "-d", "--json", "-j", "--expect-no-changes",
                "--show-config", "--show-reads", "--show-replacement-steps", "--show-sames", "--show-full-output",
                "--suppress-outputs", "--suppress-progress", "--skip-preview", "-f", "--yes", "-y",
                "--target-dependents", "--exclude-dependents", "--show-secrets", "--continue-on-error", "--strict",
                "--skip-plugin-pre-install", "--skip-config-validation", "--run-program", "--urns",
                "--show-policy-remediations", "--ignore-protect"}

RULES: dict[tuple[str, ...], Rules] = {
    ("login",): Rules(1, value_flags=frozenset({"--cloud-url", "-c", "--default-org", "--oidc-token", "--oidc-org",
                                                "--oidc-team", "--oidc-user", "--oidc-expiration"}),
                      bool_flags=frozenset({"--local", "-l", "--insecure", "--interactive"})),
    ("install",): Rules(0, value_flags=frozenset({"--parallel"}),
                        bool_flags=frozenset({"--reinstall", "--no-plugins", "--no-dependencies",
                                              "--use-language-version-tools"})),
    ("stack", "select"): Rules(1, value_flags=frozenset({"--stack", "-s", "--secrets-provider"}),
                               bool_flags=frozenset({"--create", "-c"})),
    ("stack", "init"): Rules(1, value_flags=frozenset({"--stack", "-s", "--secrets-provider", "--copy-config-from",
                                                       "--teams", "--remote-stack-config"}),
                             bool_flags=frozenset({"--no-select"})),
    ("stack", "change-secrets-provider"): Rules(1, 1, value_flags=frozenset({"--stack", "-s"})),
    ("config", "set"): Rules(2, 1, value_flags=frozenset({"--stack", "-s", "--config-file", "--type"}),
                             bool_flags=frozenset({"--path", "--plaintext", "--secret"})),
    ("preview",): Rules(0, value_flags=frozenset(_UPDATE_VALUE | {"--save-plan", "--import-file", "--exclude",
                                                                  "-x"}),
                        bool_flags=frozenset(_UPDATE_BOOL), optional_value_flags=frozenset({"--refresh", "-r"})),
    ("up",): Rules(1, value_flags=frozenset(_UPDATE_VALUE | {"--plan", "--secrets-provider", "--exclude"}),
                   bool_flags=frozenset(_UPDATE_BOOL), optional_value_flags=frozenset({"--refresh", "-r"})),
    ("destroy",): Rules(0, value_flags=frozenset(_UPDATE_VALUE | {"--exclude", "-x"}),
                        bool_flags=frozenset(_UPDATE_BOOL | {"--exclude-protected", "--remove", "--preview-only"}),
                        optional_value_flags=frozenset({"--refresh", "-r"})),
    ("plugin", "install"): Rules(3, value_flags=frozenset({"--server", "--file", "-f", "--checksum", "--parallel"}),
                                 bool_flags=frozenset({"--exact", "--reinstall"})),
    ("state", "unprotect"): Rules(1, value_flags=frozenset({"--stack", "-s"}),
                                  bool_flags=frozenset({"--all", "--yes", "-y"})),
}


def commands() -> list[tuple[str, str]]:
    """(where, command) for every `pulumi ...` in fenced code blocks (one per line, after env assignments and a
    ``$`` prompt; ``#`` comments dropped) and in inline code."""
    found: list[tuple[str, str]] = []
    for doc in DOCUMENTS:
        text = doc.read_text()
        for block in re.finditer(r"```[^\n]*\n(.*?)```", text, re.S):
            for line in block.group(1).splitlines():
                m = re.match(r"^\s*(?:\$ )?(?:[A-Z_][A-Z0-9_]*=\S+ +)*(pulumi [^#\n]*)", line)
                if m:
                    found.append((f"{doc.name}: {line.strip()}", m.group(1).strip()))
        inline_text = re.sub(r"```.*?```", "", text, flags=re.S)
        for m in re.finditer(r"`(?:[A-Z_][A-Z0-9_]*=\S+ +)*(pulumi [^`]+)`", inline_text):
            found.append((f"{doc.name}: `{m.group(0).strip('`')}`", m.group(1).strip()))
    return found


def parse(command: str, *, inline: bool = False) -> str | None:
    """None when ``command`` parses under RULES, else why not; ``inline`` allows a trailing value flag without
    its value (a flag named in prose)."""
    words = shlex.split(command)
    assert words[0] == "pulumi"
    rest = words[1:]
    path = next((p for p in sorted(RULES, key=len, reverse=True) if tuple(rest[: len(p)]) == p), None)
    if path is None:
        return f"unknown command {' '.join(rest[:2])!r} (add its rules from pkg/cmd/pulumi/)"
    rules = RULES[path]
    args: list[str] = []
    tokens = rest[len(path):]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            args.extend(tokens[i:])
            break
        if not token.startswith("-") or token == "-":
            args.append(token)
            continue
        name, has_value, _ = token.partition("=")
        if name in rules.bool_flags | GLOBAL_BOOL or name in rules.optional_value_flags:
            continue
        if name in rules.value_flags | GLOBAL_VALUE:
            if not has_value:
                if i >= len(tokens):
                    return None if inline and not args else f"flag {name} needs a value"
                i += 1
            continue
        return f"unknown flag {name} for pulumi {' '.join(path)}"
    if not rules.min_args <= len(args) <= rules.max_args:
        return (f"pulumi {' '.join(path)} takes {rules.min_args}..{rules.max_args} arguments, got {len(args)}: "
                f"{args}")
    return None


@pytest.mark.parametrize(("where", "command"), commands(), ids=[w for w, _ in commands()])
def test_documented_pulumi_command_parses(where: str, command: str) -> None:
    inline = where.endswith("`")
    assert parse(command, inline=inline) is None, f"{where}: {parse(command, inline=inline)}"


def test_the_parser_rejects_what_the_cli_rejects() -> None:
    """The mistake issue 20 found: flags after ``--`` are positional, so ``--stack`` there is a third argument."""
    bad = 'pulumi config set --secret sovereign-clusters:kubeconfig -- "$(cat k.yaml)" --stack cn-prod'
    assert "takes 1..2 arguments, got 4" in (parse(bad) or "")
    assert parse('pulumi config set --secret --stack cn-prod sovereign-clusters:kubeconfig -- "$(cat k)"') is None
    assert "unknown flag --policy-packs" in (parse("pulumi preview --policy-packs policies") or "")
    assert "needs a value" in (parse("pulumi up --stack") or "")
    assert "unknown command" in (parse("pulumi stacks select cn-prod") or "")
    assert parse("pulumi install cn-prod") is not None
    assert commands(), "the documents name pulumi commands"
