"""Asset ids are UUIDv7 and, within a process, strictly increasing: the order of registration,
even for files registered in the same millisecond (which copy is the original depends on it)."""

from __future__ import annotations

import threading
import uuid

import pytest

import trove.domain.ids as ids


def _parts(value: str) -> tuple[int, int]:
    """(milliseconds, counter) of an id, after checking it is a well-formed UUIDv7."""
    parsed = uuid.UUID(value)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    return parsed.int >> 80, (parsed.int >> 64) & 0xFFF


def test_ids_made_in_a_burst_increase_and_stay_unique() -> None:
    made = [ids.new_id() for _ in range(20_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    millis = [_parts(value)[0] for value in made]
    assert len(set(millis)) < len(made) / 10  # many shared a millisecond: the counter ordered them


def test_ids_made_by_threads_at_once_are_all_distinct_and_each_thread_sees_them_increase() -> None:
    made: dict[int, list[str]] = {}

    def make(n: int) -> None:
        made[n] = [ids.new_id() for _ in range(5_000)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(values == sorted(values) for values in made.values())
    everything = [value for values in made.values() for value in values]
    assert len(set(everything)) == len(everything)


def test_a_clock_stepped_back_or_a_full_counter_still_gives_a_larger_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_800_000_000_000_000_000]
    monkeypatch.setattr(ids, "time_ns", lambda: now[0])
    monkeypatch.setattr(ids, "_last_millis", 0)
    first = ids.new_id()
    now[0] -= 5_000_000_000  # NTP steps the clock five seconds back
    after_step = ids.new_id()
    assert after_step > first and _parts(after_step) == (_parts(first)[0], 1)

    made = [ids.new_id() for _ in range(ids._COUNTER_MAX + 2)]  # more than a millisecond holds
    assert made == sorted(made) and made[0] > after_step
    assert _parts(made[-1])[0] == _parts(first)[0] + 1  # the next millisecond was borrowed
