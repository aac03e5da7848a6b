"""Where each part of a bundle lives (docs/evidence.md, "What a bundle holds"), and how its files are listed.

One table of names, read by the writer and the verifier alike. Paths inside a bundle are POSIX and relative; the
envelope is the only file the statement does not name (it holds the statement).
"""

from __future__ import annotations

from pathlib import Path

ENVELOPE = "envelope.dsse.json"
"""The DSSE envelope: the in-toto Statement, signed."""
INDEX = "evidence.json"
"""What the bundle is about: stack, evaluation time, verdict, tool and pack versions, git commit, and every input
with its role, original path, version and digest."""
RESULTS = "results.json"
"""The full policy results: the check report exactly as ``sovereign check STACK --format json`` writes it."""
RENDER = "render.json"
"""SHA-256 of every rendered file (``preview.json`` and each manifest), by its path in the render directory."""
CONNECTIVITY = "connectivity.json"
"""The connectivity proof's summary: every path that leaves the jurisdiction, with the transfer covering it."""
REGISTER = "register.json"
"""The data-flow register: ``sovereign register STACK --format json`` of the same render and time."""
INPUTS = "inputs"
STACK_INPUT = f"{INPUTS}/stack"
PUBLIC_CATALOG_INPUT = f"{INPUTS}/catalog/public"
ORGANISATION_INPUT = f"{INPUTS}/catalog/organisation"
POLICY_CONFIG_INPUT = f"{INPUTS}/policy-pack-config"

DERIVED = (RESULTS, RENDER, CONNECTIVITY, REGISTER)
"""The files a verifier derives again from the bundled inputs and compares."""


def bundle_files(directory: Path) -> tuple[list[str], list[str]]:
    """(regular files, other entries) under ``directory``, as sorted POSIX paths relative to it, the envelope left
    out. Other entries (links, FIFOs, sockets) are never followed or read: a verifier reports them."""
    files, others = [], []
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            others.append(name)
        elif path.is_file() and name != ENVELOPE:
            files.append(name)
    return files, others
