"""Where two tracemalloc snapshots of the bench worker differ, largest growth first.

Run: python -m bench.memory_diff SMALL.snap BIG.snap [--top 25]  (snapshots from BENCH_TRACEMALLOC, see worker_proc)
"""

from __future__ import annotations

import argparse
import tracemalloc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("small")
    parser.add_argument("big")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=6, help="frames of each allocation's traceback shown")
    args = parser.parse_args()
    small, big = (tracemalloc.Snapshot.load(p) for p in (args.small, args.big))
    print(f"traced: {sum(s.size for s in small.statistics('filename')) / 2**20:.1f} MiB -> "
          f"{sum(s.size for s in big.statistics('filename')) / 2**20:.1f} MiB")  # fmt: skip
    for stat in big.compare_to(small, "traceback")[: args.top]:
        print(f"{stat.size_diff / 2**20:+8.2f} MiB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format(limit=args.frames, most_recent_first=True)[::2]:
            print("      " + line.strip())


if __name__ == "__main__":
    main()
