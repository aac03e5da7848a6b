"""The Pulumi SDK's per-resource stack trace, built without reading source files.

Why: for every resource it registers, the SDK's ``pulumi.runtime.resource._get_stack_trace`` calls
``traceback.extract_stack()``, which for every frame also ``stat``s the source file (``linecache.checkcache``)
and reads its line, then turns each frame into a ``SourcePosition`` through ``pathlib.Path(...).as_uri()``. Only
the file name and line number reach the message. With our program's call depth that is 0.7 ms per resource,
about a fifth of the mock runtime's time in a render.

``same_stack_trace`` returns the identical ``StackTrace`` message (same frames, same URIs and lines, the same
choice of the first user frame: the frames below the third ``__init__`` from the top, as in the SDK), reading
frames directly and converting each file name once. ``install()`` puts it in the SDK's place for a render worker
(``sovereign/render/capture.py``); ``tests/program/test_stack_trace.py`` compares it with the SDK's own function on
real resource registrations. If the SDK ever lacks the function it replaces, nothing is installed.
"""

from __future__ import annotations

import functools
import pathlib
import sys
from types import FrameType

from pulumi.runtime.proto import source_pb2

INIT = "__init__"
INITS_TO_SKIP = 3
"""Resource.__init__, Custom/ComponentResource.__init__, then the concrete resource's constructor (SDK logic)."""


@functools.cache
def _uri(filename: str) -> str | None:
    if filename == "":
        return None
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:  # noqa: BLE001 - as the SDK: a file name that is no absolute path has no position
        return None


def _frames_from_top(frame: FrameType | None) -> list[tuple[str, int | None, str]]:
    out: list[tuple[str, int | None, str]] = []
    while frame is not None:
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return out


def same_stack_trace() -> source_pb2.StackTrace:
    """What ``pulumi.runtime.resource._get_stack_trace()`` returns when called from the same place."""
    top_down = _frames_from_top(sys._getframe(0))
    stack = top_down[::-1]  # outermost first, as traceback.extract_stack() gives them
    seen = 0
    i = len(stack) - 1
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][2] == INIT:
            seen += 1
            if seen == INITS_TO_SKIP:
                break
    if i < 1:
        return source_pb2.StackTrace()
    frames = []
    for filename, lineno, _name in reversed(stack[:i]):
        uri = _uri(filename) if lineno is not None else None
        pc = source_pb2.SourcePosition(uri=uri, line=lineno) if uri is not None and lineno is not None else None
        frames.append(source_pb2.StackFrame(pc=pc))
    return source_pb2.StackTrace(frames=frames)


def install() -> bool:
    """Use ``same_stack_trace`` for the SDK's registrations in this process; False when the SDK has no such hook."""
    import pulumi.runtime.resource as sdk_resource

    if not callable(getattr(sdk_resource, "_get_stack_trace", None)):
        return False
    sdk_resource._get_stack_trace = same_stack_trace
    return True
