"""Opaque, time-ordered identifiers (UUIDv7, RFC 9562).

Written out here because Python 3.11's uuid module has no uuid7 and the third-party packages
cost more import time than these lines; time order keeps B-tree inserts append-only.

Within a process the ids are strictly increasing: those made in the same millisecond differ in
a counter (RFC 9562 6.2, method 1), not in random bits. "The first indexed" of a group of
copies is its smallest id, and a scan registers hundreds of files a millisecond: with random
bits there, which copy is the original would be a coin toss that a rebuilt index could lose.
"""

import os
import threading
from time import time_ns

_COUNTER_MAX = 0xFFF  # rand_a's 12 bits; past them the next millisecond is borrowed
_lock = threading.Lock()
_last_millis = 0
_last_counter = 0


def new_id() -> str:
    global _last_millis, _last_counter
    millis = time_ns() // 1_000_000
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    with _lock:
        if millis > _last_millis:
            counter = 0
        else:  # the same millisecond, or the clock stepped back: count on from the last id
            millis, counter = _last_millis, _last_counter + 1
            if counter > _COUNTER_MAX:
                millis, counter = millis + 1, 0
        _last_millis, _last_counter = millis, counter
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64  # rand_a: the counter
    value |= 0b10 << 62  # variant
    value |= rand_b
    # str(uuid.UUID(int=value)) without the object: a third of registering a file's ids.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_lease_owner() -> str:
    """The name a pipeline runner's leases carry: host, process and a random part."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
