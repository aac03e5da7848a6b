"""Parse most files of a large manifest directory in a forked child while this process gets the pack ready.

Why: ``sovereign check --manifests DIR`` checks one cluster, in one process: PyYAML takes about 0.5 s per
megabyte of manifests (1,000 objects), and the imports and catalog the policy pack needs about 0.25 s, one after
the other. When a core is idle (``sovereign.render.runner.usable_cores``), :meth:`ManifestLoad.start` forks a
child (sovereign/process/forked_child.py: it starts at once, with the YAML reader already imported) that parses the
later files, this process imports and loads what the pack needs meanwhile, then :meth:`ManifestLoad.documents`
parses the first files itself and appends the child's.

Same result either way: the child runs ``load_manifest_files`` (the sequential code: Lists expanded to any depth,
every YAML bound) on its share and the documents keep file order. Errors stay the sequential ones: a problem in
this process's share is raised first, as the sequential load would; if the child's share has a problem, or the
child fails in any way (dies, hangs, answers nonsense), this process parses that share itself, so the error raised
(or the documents returned) are exactly what the sequential load gives. So does a share whose YAML aliases add
nodes: only this process can count them against the run's budget (``yamlio.MAX_ALIAS_EXPANSION_PER_RUN``). The
helper only ever saves time. ``tests/cli/test_manifest_parse_helper.py`` and ``tests/hostile/helper_probe.py``
compare both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sovereign.core.errors import InputError
from sovereign.core.manifests import Document, load_manifest_files, manifest_files
from sovereign.core.yamlio import alias_expansion_used
from sovereign.process.forked_child import ForkedChild

MIN_HELPER_FILES = 64
"""Below this the child's answer (the documents, marshalled) and the split cost more than the parsing it saves."""

OWN_SHARE = 0.5
"""The share of the bytes this process parses itself, after its own preparation (the pack's imports and the
catalog), so that both finish about together."""

HELPER_TIMEOUT_S = 600.0
"""How long this process waits for the child's documents once its own share is parsed; past it the child is ended
and this process parses the share itself."""


def own_files(files: Sequence[Path]) -> int:
    """How many of the first ``files`` this process parses: ``OWN_SHARE`` of their bytes (at least one file, and
    never all of them). Bytes, not files: a Deployment's file is twice a Service's."""
    sizes = []
    for file in files:
        try:
            sizes.append(file.stat().st_size)
        except OSError:  # the parse reports it, wherever it falls
            sizes.append(0)
    budget = sum(sizes) * OWN_SHARE
    own, taken = 1, sizes[0] if sizes else 0
    while own < len(files) - 1 and taken + sizes[own] <= budget:
        taken += sizes[own]
        own += 1
    return own


class ManifestLoad:
    """The objects of a manifest file or directory, being read (in part by a forked child)."""

    def __init__(self, files: Sequence[Path], own: int, helper: ForkedChild | None,
                 problem: InputError | None = None) -> None:
        self._files = list(files)
        self._own = own
        self._helper = helper
        self._problem = problem

    @classmethod
    def start(cls, path: Path, *, helper: bool) -> ManifestLoad:
        """List the files, and with ``helper`` (a core is idle) start parsing the later ones in a forked child.

        A listing problem (no such path, no manifests) is raised by :meth:`documents`, where the sequential
        load would raise it, not here.
        """
        try:
            files = manifest_files(path)
        except InputError as exc:
            return cls([], 0, None, exc)
        if not helper or len(files) < MIN_HELPER_FILES:
            return cls(files, len(files), None)
        own = own_files(files)
        theirs = files[own:]
        child = ForkedChild.start(lambda: serve(theirs))
        if child is None:  # forking is not safe here: parse everything in this process
            return cls(files, len(files), None)
        return cls(files, own, child)

    def __enter__(self) -> ManifestLoad:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Never leave a child behind (e.g. when the caller fails before asking for the documents)."""
        self._stop_helper()

    def documents(self) -> list[Document]:
        """Every object, in file order (``List`` kinds expanded); the first bad file raises ``InputError``."""
        if self._problem is not None:
            raise self._problem
        try:
            own = load_manifest_files(self._files[: self._own])
        except BaseException:
            self._stop_helper()
            raise
        theirs = self._helper_documents()
        if theirs is None:  # no child, a problem in its share, or a failed child: parse the share here
            theirs = load_manifest_files(self._files[self._own :])
        return own + theirs

    def _helper_documents(self) -> list[Document] | None:
        helper, self._helper = self._helper, None
        if helper is None:
            return None
        answered, value = helper.answer(HELPER_TIMEOUT_S)
        if not answered or not isinstance(value, tuple) or len(value) != 2:
            return None
        kind, documents = value
        if kind != "documents" or not isinstance(documents, list):
            return None
        return documents

    def _stop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.stop()


def serve(files: Sequence[Path]) -> tuple[str, Any]:
    """The child's answer for ``files``: their documents, or ``failed`` (the caller parses them to find out why).

    Also ``failed`` when aliases added nodes in this share: the budget of alias expansion is the run's
    (``yamlio.MAX_ALIAS_EXPANSION_PER_RUN``), and only the parent, parsing the share after its own, counts it as
    the sequential load does (real manifests have no aliases, so this costs nothing in practice)."""
    spent = alias_expansion_used()
    try:
        documents = load_manifest_files(files)
    except InputError:
        return "failed", None
    if alias_expansion_used() != spent:
        return "failed", None
    return "documents", documents
