"""``check --shard INDEX/COUNT``: which stacks one of COUNT CI runners checks.

Every runner computes the shares on its own, with nothing shared between them but the repository: so the split
depends only on what each runner's checkout holds (the stack names and their files), never on a cache or a
previous run, which may differ from runner to runner. The cost of a stack is estimated by its file's size (it
grows with the workloads, tenants and policies the stack declares, which is what a render and a check cost);
stacks are dealt largest first, each to the share with the least estimated cost so far (the lowest index on a
tie), so equal stacks go round-robin in name order. Shares are disjoint and together hold every stack; a share
may be empty when there are more runners than stacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from sovereign.core.errors import InputError

_SHARD = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)")


def parse_shard(text: str) -> tuple[int, int]:
    """``INDEX/COUNT`` (1-based, as a CI matrix counts: ``--shard ${{ matrix.shard }}/4``)."""
    found = _SHARD.fullmatch(text.strip())
    if found is None or int(found[1]) > int(found[2]):
        raise InputError("command line", ("--shard",), "INDEX/COUNT with 1 <= INDEX <= COUNT, e.g. 2/4", text)
    return int(found[1]), int(found[2])


def stack_costs(files: Mapping[str, Path]) -> dict[str, int]:
    """Each stack's estimated cost: its file's size in bytes (0 when it cannot be read: the check reports why)."""
    out = {}
    for stack, path in files.items():
        try:
            out[stack] = path.stat().st_size
        except OSError:
            out[stack] = 0
    return out


def share(stacks: Sequence[str], costs: Mapping[str, int], index: int, count: int) -> list[str]:
    """The stacks of share ``index`` of ``count``, in the order of ``stacks``."""
    loads = [0] * count
    owner: dict[str, int] = {}
    for stack in sorted(stacks, key=lambda s: (-costs.get(s, 0), s)):
        chosen = min(range(count), key=lambda i: (loads[i], i))
        owner[stack] = chosen
        loads[chosen] += costs.get(stack, 0)
    return [s for s in stacks if owner[s] == index - 1]
