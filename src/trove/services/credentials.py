"""Secrets and their stored forms: Argon2id for passwords, SHA-256 for random tokens, and the
in-memory brake on password guessing.

Passwords are low-entropy, so they get a slow, memory-hard hash (argon2-cffi, OWASP's argon2id
profile: 19 MiB, 2 passes, 1 lane; about 0.2 s on a loaded 2-core machine, and the parameters
live in each hash so they can be raised later). Session cookies and API tokens are 256 random
bits: a fast SHA-256 is enough to keep a leaked database from holding a usable key, and lets a
request be authenticated by an indexed lookup.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "trove_"
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so the answer takes as long either way
    and does not tell which names exist."""
    return _HASHER.hash("not a password anyone has")


def new_secret(*, prefix: str = "") -> str:
    """256 random bits, URL-safe (API tokens carry a prefix so they are recognisable in logs
    and secret scanners)."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LoginThrottle:
    """At most `attempts` failed sign-ins per (user name, client address) within `window`
    seconds; past that, sign-in for that pair is refused until the oldest failure ages out.

    Kept in memory (one server process): a restart forgets it, which costs an attacker a
    restart per few guesses, and no table is written on every failure. Keyed by name and
    address together, so a guesser elsewhere cannot lock the owner out.
    """

    MAX_KEYS = 10_000

    def __init__(
        self,
        *,
        attempts: int = 5,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, name: str, client: str) -> int:
        """Seconds until this pair may try again; 0 when it may now."""
        with self._lock:
            failures = self._recent(name, client)
            if len(failures) < self.attempts:
                return 0
            return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                self._forget_old()
            self._recent(name, client).append(self.clock())

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop((name.lower(), client), None)

    def _recent(self, name: str, client: str) -> deque[float]:
        failures = self._failures.setdefault((name.lower(), client), deque())
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        while len(failures) > self.attempts:
            failures.popleft()
        return failures

    def _forget_old(self) -> None:
        cutoff = self.clock() - self.window
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= cutoff]:
            del self._failures[key]
