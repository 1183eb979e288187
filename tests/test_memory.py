"""What a finished stage freed goes back to the system before the next one loads its models
(`ga train`: training's heap before evaluation, each evaluated model before the next)."""

import sys
from pathlib import Path

import pytest

from ga_cli import memory


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or memory._libc() is None, reason="glibc's malloc_trim"
)
def test_release_returns_freed_heap_pages_that_glibc_keeps():
    # 190 MB of 64 KB buffers (under glibc's mmap threshold: they live in the heap) with small
    # buffers between them that stay alive: freeing the big ones leaves holes glibc keeps
    big, kept = [], []
    for _ in range(3000):
        big.append(bytearray(b"x" * 65536))
        kept.append(bytearray(b"y" * 1024))
    held = resident_mb()
    del big
    freed_but_kept = resident_mb()
    memory.release()
    released = resident_mb()
    assert held - freed_but_kept < 60  # glibc alone keeps the holes
    assert freed_but_kept - released > 120, (held, freed_but_kept, released)
    assert len(kept) == 3000 and all(b[0] == ord("y") for b in kept)  # live data untouched
