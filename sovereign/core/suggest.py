""""Did you mean": the closest names of the input, for a name that names nothing (as git and kubectl suggest)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` candidates close to ``word``: for ``ns/name`` first the same name in other namespaces, then
    the closest spellings (difflib's ratio, at least 0.6), each once, in that order."""
    pool = sorted(set(candidates))
    name = word.rsplit("/", 1)[-1]
    same_name = [c for c in pool if "/" in word and c != word and c.rsplit("/", 1)[-1] == name]
    spelled = difflib.get_close_matches(word, pool, n=limit, cutoff=0.6)
    return list(dict.fromkeys([*same_name, *spelled]))[:limit]


def did_you_mean(word: str, candidates: Iterable[str], limit: int = 3) -> str:
    """`` (did you mean a, b?)`` for the closest candidates, or "" when none is close."""
    found = closest(word, candidates, limit)
    return f" (did you mean {', '.join(found)}?)" if found else ""
