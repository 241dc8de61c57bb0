"""Deterministic shards of the suite's cases, for spreading one tier over several CI jobs.

Shard ``i/n`` (1 <= i <= n) holds the cases whose id hashes to i - 1: crc32(id) mod n. The hash depends
on the id alone, so every job, worker and machine agrees without talking to the others, the n shards
are disjoint and together hold every case, and a case stays in its shard when others are added.
"""
from __future__ import annotations

import zlib
from typing import NamedTuple


class Shard(NamedTuple):
    index: int  # 1-based
    count: int

    def __str__(self):
        return f"{self.index}/{self.count}"

    def holds(self, case_id: str) -> bool:
        return zlib.crc32(case_id.encode()) % self.count == self.index - 1


def parse_shard(text, option="--rnnparity-shard / RNNPARITY_SHARD") -> Shard | None:
    """'i/n' -> Shard(i, n); None or '' -> None (no sharding). A bad value raises ValueError naming
    the option, what it expects and what it got."""
    if text is None or not str(text).strip():
        return None
    index, sep, count = str(text).strip().partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not sep or shard is None or shard.count < 1 or not 1 <= shard.index <= shard.count:
        raise ValueError(f"{option}: expected i/n with 1 <= i <= n "
                         f"(e.g. 2/8), got {text!r}")
    return shard
