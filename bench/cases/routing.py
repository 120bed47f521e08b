"""(routing) Pick routes alone (no database): optimal_route on 10-, 30- and 100-pick lists in
a single-block warehouse (10 aisles x 30 m, exact Ratliff-Rosenthal) and a 3-block one
(10 aisles x 60 m, cross-aisles every 20 m: Held-Karp up to 12 points, the local-search
heuristic with its 300 ms budget beyond). Reports the routing time p50/p95 and the walk
against the S-shape and against walking the lines in order-line sequence (medians over the
lists; saving = 1 - route / baseline)."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from chainstore.fulfilment.engine.routing import (
    Layout,
    Point,
    in_sequence,
    optimal_route,
    s_shape,
)

AISLES = tuple(3.0 * a for a in range(1, 11))  # 3 m apart
SINGLE = Layout(AISLES, (0.0, 31.2), (AISLES[0], 0.0))
SINGLE_BINS = [1.2 * r for r in range(1, 26)]  # racks 1.2 .. 30 m
BLOCKS = Layout(AISLES, (0.0, 20.0, 40.0, 60.0), (AISLES[0], 0.0))
BLOCK_BINS = [base + 1.2 * r for base in (0.0, 20.0, 40.0) for r in range(1, 16)]


def pick_list(layout: Layout, racks: list[float], size: int, seed: int) -> list[Point]:
    """Random bins in the order the order lines list them (repeats allowed, as in real
    waves where two lines share a bin)."""
    rng = random.Random(seed)
    return [Point(rng.choice(layout.aisles), rng.choice(racks)) for _ in range(size)]


def _pct(values: list[float]) -> float:
    return round(statistics.median(values) * 100, 1)


def run(quick: bool) -> list[dict[str, Any]]:
    lists = 20 if quick else 100
    optimal_route(SINGLE, pick_list(SINGLE, SINGLE_BINS, 10, -1))  # warm-up (imports)
    rows = []
    for name, layout, racks in (
        ("single block 10x30 m", SINGLE, SINGLE_BINS),
        ("3 blocks 10x60 m", BLOCKS, BLOCK_BINS),
    ):
        for size in (10, 30, 100):
            times: list[float] = []
            lengths, vs_sshape, vs_sequence = [], [], []
            methods: dict[str, int] = {}
            optimal = 0
            for seed in range(lists):
                picks = pick_list(layout, racks, size, seed)
                t0 = time.perf_counter()
                route = optimal_route(layout, picks)
                times.append((time.perf_counter() - t0) * 1000)
                sshape = s_shape(layout, picks).length
                sequence = in_sequence(layout, picks).length
                lengths.append(route.length)
                vs_sshape.append(1 - route.length / sshape)
                vs_sequence.append(1 - route.length / sequence)
                methods[route.method] = methods.get(route.method, 0) + 1
                optimal += route.optimal
            times.sort()
            rows.append(
                {
                    "variant": f"{name}, {size} picks",
                    "ops": lists,
                    "seconds": round(sum(times) / 1000, 3),
                    "ops_per_s": round(lists / (sum(times) / 1000), 1),
                    "p50_ms": round(statistics.median(times), 2),
                    "p95_ms": round(times[min(lists - 1, int(lists * 0.95))], 2),
                    "p99_ms": round(times[min(lists - 1, int(lists * 0.99))], 2),
                    "route_m": round(statistics.median(lengths), 1),
                    "saved_vs_sshape_pct": _pct(vs_sshape),
                    "saved_vs_sequence_pct": _pct(vs_sequence),
                    "note": f"{optimal}/{lists} proven optimal, "
                    + ", ".join(f"{m} x{c}" for m, c in sorted(methods.items())),
                }
            )
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
