"""A stack file as a bundle may carry it: every value that protects or is a secret replaced, lines kept.

What goes: each ``secure:`` value (Pulumi's ciphertext of a secret config value), ``encryptionsalt`` (with the
passphrase provider it holds an encrypted known value, enough to guess the passphrase offline) and
``encryptedkey`` (the stack's wrapped data key). A bundle is handed to people outside the team; ciphertext is not
theirs to brute-force. The offline render never decrypts anyway (a ``secure:`` value reads as a placeholder,
docs/cli.md), so the redacted file renders and checks exactly as the original: each value becomes ``"[secret]"``
on the same line, and a value that spanned lines leaves blank lines behind, so every finding keeps its line.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from sovereign.core.errors import format_key_path

REDACTED = '"[secret]"'
PROTECTION_KEYS = ("encryptionsalt", "encryptedkey")
"""Top-level stack file keys Pulumi writes for its secrets provider."""


@dataclass(frozen=True)
class Redacted:
    text: str
    paths: tuple[str, ...]
    """The key paths whose values were replaced, in file order."""


def _spans(root: yaml.Node) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if keys == ["secure"] and isinstance(node.value[0][1], yaml.ScalarNode):
                value = node.value[0][1]
                out.append((value.start_mark.index, value.end_mark.index, format_key_path((*path, "secure"))))
                return
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                if not path and name in PROTECTION_KEYS and isinstance(value, yaml.ScalarNode):
                    out.append((value.start_mark.index, value.end_mark.index, name))
                    continue
                walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(root, ())
    return out


def redact_stack_text(text: str) -> Redacted:
    """``text`` with its secret values replaced (the file was validated by the render before it gets here)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return Redacted(text, ())
    spans = sorted(_spans(root))
    pieces, last = [], 0
    for start, end, _ in spans:
        pieces.append(text[last:start])
        pieces.append(REDACTED + "\n" * text[start:end].count("\n"))
        last = end
    pieces.append(text[last:])
    return Redacted("".join(pieces), tuple(path for _, _, path in spans))
