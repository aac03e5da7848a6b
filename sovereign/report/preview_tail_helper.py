"""Answer the tail of a check's preview in a forked copy of the prepared pack while this process sends the head.

Why: a check is one preview's RPCs to one pack (``policy_run.run_pack``): ``Remediate`` + ``Analyze`` per
resource, then one ``AnalyzeStack``, where the stack rules and the connectivity proof run (about 40 % of the pack's
time). When a core is idle (one stack on two cores), the process forks right after the pack is prepared
(``policy_run.prepared_pack``: the language host's environment, ``ConfigureStack``, ``GetAnalyzerInfo``,
``Configure``): the child, an exact copy of that prepared pack, answers the tail (``Remediate`` + ``Analyze`` of
the last resources, ``HELPER_ANALYZE_SHARE``, then ``AnalyzeStack`` over all of them), while the parent answers the
head. The diagnostics are joined in the order one pack gives them. A fork costs a few milliseconds and nothing is
imported or loaded twice.

Why the answers are the same: the residency pack keeps no state from one RPC to the next (exceptions of advisory
rules are reported by a companion policy in the RPC that raised them, policies/framework/guard.py; its caches are
functions of the config), so each answer depends only on the request and the configuration, both identical in
the copy. ``serves_rpcs_independently`` allows this only for the pack this project ships, whose tests check it
(tests/policies/test_rpc_independence.py); another pack may keep state across RPCs (the CLI gives it every RPC in
one process), so it gets every RPC in one process here too.

Only where forking is safe (sovereign/forked_child.py: Linux, a process running no other thread); the child's
answer is the list of its diagnostics. The helper only ever saves time: if it fails in any way, the parent sends
the tail to its own pack, which gives the answer, or the error, that a run without it gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.forked_child import ForkedChild, can_fork

__all__ = ["HELPER_ANALYZE_SHARE", "HELPER_TIMEOUT_S", "PreviewTailHelper", "can_fork", "helper_share",
           "serves_rpcs_independently"]

HELPER_ANALYZE_SHARE = 0.25
"""The share of the resources whose ``Remediate`` + ``Analyze`` the child answers besides ``AnalyzeStack``, so that
both processes finish together (measured at 1,251 objects, with the props encoded by the manifest parse helper:
per-resource RPCs ~0.5 ms each; the child's AnalyzeStack ~0.35 s, since it also decodes the properties of the
resources the parent analyses)."""


HELPER_TIMEOUT_S = 600.0
"""How long the parent waits for the child's answer once its own share is done (a 5,000-object stack's tail takes
about 3 s); past it the child is ended and the parent answers the tail itself."""


def helper_share(resources: int) -> int:
    """How many of the last resources the child analyses one by one."""
    return int(resources * HELPER_ANALYZE_SHARE)


def serves_rpcs_independently(pack_dir: Path) -> bool:
    """Whether ``pack_dir`` is the pack this project ships (``policies/``), the one whose answers are known not to
    depend on earlier RPCs."""
    import policies

    return pack_dir.resolve() == Path(policies.__file__).resolve().parent


class PreviewTailHelper:
    """A forked child answering the tail of one preview."""

    def __init__(self, child: ForkedChild) -> None:
        self._child = child

    @classmethod
    def fork(cls, pack: Any, analyze: Sequence[AnalyzerResource], resources: Sequence[AnalyzerResource]
             ) -> PreviewTailHelper | None:
        """Fork a child that sends ``analyze`` one by one and then ``resources`` as the stack to ``pack`` (its copy
        of it); None where forking is not safe or fails (then the caller does it all)."""

        def tail() -> list[Diagnostic]:
            return [d for r in analyze for d in pack.analyze(r)] + pack.analyze_stack(resources)

        child = ForkedChild.start(tail)
        return cls(child) if child is not None else None

    def diagnostics(self) -> list[Diagnostic] | None:
        """The child's diagnostics (its resources' in order, then the stack's), or None if it has none to give
        (then ask the pack)."""
        answered, value = self._child.answer(HELPER_TIMEOUT_S)
        if not answered or not isinstance(value, list) or not all(isinstance(d, Diagnostic) for d in value):
            return None
        return value

    def stop(self) -> None:
        """End the child if it still runs and release the pipe (always call it)."""
        self._child.stop()
