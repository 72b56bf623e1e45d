"""Look-alikes from pHashes without comparing every pair (multi-probe LSH over 4 bands).

A 64-bit hash is cut into 4 bands of 16 bits (PhashBand rows, indexed by (band, value)). If
two hashes differ in at most `d` bits, some band differs in at most `d // 4` bits
(pigeonhole), so probing every band for all values within `d // 4` bits of ours finds every
true neighbour: 1 value per band for d ≤ 3, 17 for d ≤ 7, 137 for d ≤ 11. The candidates are
then checked by exact Hamming distance.

Near-blank pictures (a hash with almost all bits equal) look alike without being alike; they
get no similarity links. At most `MAX_LINKS` nearest neighbours are kept per asset.
"""

from __future__ import annotations

from itertools import combinations

from sqlalchemy.orm import Session

from trove.repositories.links import edge
from trove.repositories.similarity import RELATION, SimilarityRepository

BANDS = 4
BAND_BITS = 16
MAX_LINKS = 50
MAX_CANDIDATES = 2000
MIN_SET_BITS = 6


def bands(phash: str) -> list[int]:
    value = int(phash, 16)
    mask = (1 << BAND_BITS) - 1
    return [(value >> (BAND_BITS * (BANDS - 1 - i))) & mask for i in range(BANDS)]


def probes(value: int, radius: int) -> list[int]:
    """`value` and every 16-bit value within `radius` flipped bits of it."""
    found = [value]
    for r in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), r):
            flipped = value
            for bit in bits:
                flipped ^= 1 << bit
            found.append(flipped)
    return found


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_informative(phash: str) -> bool:
    ones = int(phash, 16).bit_count()
    return MIN_SET_BITS <= ones <= 64 - MIN_SET_BITS


def update_links(session: Session, *, asset_id: str, phash: str | None, max_distance: int) -> int:
    """Refresh this asset's bands and `visually_similar_to` edges; the number of edges."""
    repo = SimilarityRepository(session)
    repo.serialise_updates()
    if not phash or len(phash) != 16:
        repo.replace_bands(asset_id, [])
        repo.replace_links(asset_id, [])
        return 0
    own = bands(phash)
    repo.replace_bands(asset_id, own)
    if not is_informative(phash):
        repo.replace_links(asset_id, [])
        return 0
    radius = max_distance // BANDS
    wanted = {band: probes(value, radius) for band, value in enumerate(own)}
    near = []
    for other_id, other_hash in repo.candidates(asset_id, wanted, limit=MAX_CANDIDATES):
        d = distance(phash, other_hash)
        if d <= max_distance and is_informative(other_hash):
            near.append((d, other_id))
    near.sort()
    rows = []
    for d, other_id in near[:MAX_LINKS]:
        source, target = sorted((asset_id, other_id))  # one edge per pair, either way round
        rows.append(
            edge(source, target, RELATION, weight=round(1 - d / 64, 4), meta={"distance": d})
        )
    repo.replace_links(asset_id, rows)
    return len(rows)
