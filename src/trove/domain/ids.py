"""Opaque, time-ordered identifiers (UUIDv7, RFC 9562).

Written out here because Python 3.11's uuid module has no uuid7 and the third-party packages
cost more import time than these lines; time order keeps B-tree inserts append-only.
"""

import os
import time


def new_id() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    # str(uuid.UUID(int=value)) without the object: a third of registering a file's ids.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_lease_owner() -> str:
    """The name a pipeline runner's leases carry: host, process and a random part."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
