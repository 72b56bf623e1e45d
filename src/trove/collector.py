"""How often Python's cyclic garbage collector runs in Trove's processes.

CPython's default starts a young-generation collection every 700 net allocations of
container objects, and a full one every 100 of those. A scan allocates a few dicts and
tuples per file (its rows, their driver tuples, the light steps' outcomes) and keeps a heap
of ~200,000 objects (SQLAlchemy, the models): with the default, the collector took 1.0-1.1 s
of the scan process's ~5 s CPU over 20,000 small files (unpickling the light pass's outcomes
of 5,000 files took 168 ms with it, 37 ms without). Nearly all of what Trove allocates is
freed by reference counting; cycles are rare (exceptions and their tracebacks, SQLAlchemy's
internals), and collecting them every 50,000 allocations instead of 700 leaves them alive a
little longer.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def collect_less_often() -> None:
    """Called where a process does batch work, file after file: `trove scan` and the
    pipeline's worker processes. Not in `trove serve`, which can sit idle for hours: a cycle
    holding a large buffer (an exception's traceback over a decoded picture) would wait that
    long for the next collection."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
