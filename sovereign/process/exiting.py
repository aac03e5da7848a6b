"""End one of our own command-line processes without the interpreter's teardown.

Why: at exit CPython frees every object one by one (modules, caches, the Pulumi SDK's registrations, a check's
decoded resources). For a render or check of a thousand resources that is 0.3-0.5 s of a 3-6 s command, spent
after the last byte of output was written. Every output of ours is written and closed (atomic temp-file +
rename) and every child process and pool is shut down before a command returns, so nothing is left for the
teardown to do but free memory, which the kernel does at once.

Only for process entry points (``python -m sovereign``, the ``sovereign`` script, the render worker): code
that calls ``main()`` in-process (tests, the benchmarks) keeps a normal return.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

FLUSH_FAILED = 120
"""The status CPython itself exits with when flushing stdout/stderr fails at shutdown."""


def exit_now(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code`` (``FLUSH_FAILED`` if a flush fails)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`sovereign check | head`) or a closed stream
            code = code or FLUSH_FAILED
    os._exit(code)
