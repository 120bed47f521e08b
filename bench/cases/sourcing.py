"""(g) The sourcing engine alone (no database): solve() on random orders against sites spread
over Chinese cities. Reports p50/p95/p99 of the whole call, how many plans were proven
optimal within the 500 ms budget (by evaluating every allowed site set when there are at
most 256 of them, else by HiGHS), and the objective gap to brute force (every subset of
sites) where that is feasible (up to 12 sites: 12 x 30 is already past the exact range, so
solved by the heuristic); at 25 sites x 60 lines the heuristic is compared with the MIP
given 10x the time instead."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from chainstore.fulfilment.engine.sourcing import (
    PRESETS,
    Candidate,
    Demand,
    Plan,
    brute_force,
    solve,
)
from chainstore.fulfilment.geo import CITIES, distance_km

BUDGET_MS = 500  # SourcingPolicy.time_budget_ms default


def order(seed: int, sites: int, lines: int) -> tuple[list[Demand], list[Candidate], str]:
    """A customer in a random city, `sites` ship-from sites in other cities (a third of them
    warehouses with deep stock, the rest stores), `lines` distinct SKUs of 1-3 units."""
    rng = random.Random(seed)
    customer, *places = rng.sample(CITIES, sites + 1)
    demands = [
        Demand(
            sku_id=1000 + k,
            quantity=1000 * rng.choice([1, 1, 1, 2, 3]),
            weight_g=rng.choice([0, 120, 350, 800, 1500, 4000]),
        )
        for k in range(lines)
    ]
    candidates = []
    for s, (_zh, en, lat, lon) in enumerate(places):
        warehouse = s % 3 == 0
        share = 0.8 if warehouse else 0.45
        candidates.append(
            Candidate(
                site_id=s + 1,
                distance_km=distance_km(customer[2], customer[3], lat, lon),
                base_cost_fen=rng.choice([600, 800, 1000]) if warehouse else 1200,
                per_kg_cost_fen=rng.choice([100, 200, 300]),
                available={
                    d.sku_id: 1000 * rng.randint(0, 20 if warehouse else 4)
                    for d in demands
                    if rng.random() < share
                },
                priority=0 if warehouse else 1,
                label=en,
            )
        )
    strategy = sorted(PRESETS)[seed % len(PRESETS)]
    return demands, candidates, strategy


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _row(variant: str, times: list[float], note: str) -> dict[str, Any]:
    total = sum(times) / 1000
    return {
        "variant": variant,
        "ops": len(times),
        "seconds": round(total, 3),
        "ops_per_s": round(len(times) / total, 1) if total else None,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 0.95), 2),
        "p99_ms": round(_percentile(times, 0.99), 2),
        "note": note,
    }


def _gap(plan: Plan, reference: Plan) -> float:
    """Relative objective gap in % (plans that fill less count as infinitely worse)."""
    if plan.filled != reference.filled:
        return float("inf") if plan.filled < reference.filled else 0.0
    if reference.objective <= 0:
        return 0.0 if plan.objective <= 1e-6 else float("inf")
    return max(0.0, (plan.objective - reference.objective) / reference.objective * 100)


def _versus_brute_force(
    sites: int, lines: int, repeats: int, max_shipments: int | None
) -> dict[str, Any]:
    times: list[float] = []
    proven = matched = 0
    gaps: list[float] = []
    brute_ms: list[float] = []
    methods: set[str] = set()
    for seed in range(repeats):
        demands, candidates, strategy = order(seed, sites, lines)
        weights = PRESETS[strategy]
        t0 = time.perf_counter()
        plan = solve(
            demands,
            candidates,
            weights,
            max_shipments=max_shipments,
            time_budget_ms=BUDGET_MS,
        )
        times.append((time.perf_counter() - t0) * 1000)
        methods.add(plan.method)
        t0 = time.perf_counter()
        oracle = brute_force(demands, candidates, weights, max_shipments=max_shipments)
        brute_ms.append((time.perf_counter() - t0) * 1000)
        proven += plan.optimal
        gap = _gap(plan, oracle)
        gaps.append(gap)
        matched += gap <= 1e-9 and plan.filled == oracle.filled
    limit = "any split" if max_shipments is None else f"max {max_shipments} shipments"
    worst = max(gaps)
    return _row(
        f"{'/'.join(sorted(methods))} {sites} sites x {lines} lines, {limit}",
        times,
        f"{proven}/{repeats} proven optimal; {matched}/{repeats} equal to brute force "
        f"(worst gap {worst:.2f}%, mean {statistics.fmean(gaps):.3f}%); "
        f"brute force p50 {statistics.median(brute_ms):.1f} ms",
    )


def _heuristic_large(repeats: int, sites: int = 25, lines: int = 60) -> dict[str, Any]:
    times: list[float] = []
    gaps: list[float] = []
    proven = 0
    for seed in range(repeats):
        demands, candidates, strategy = order(seed, sites, lines)
        weights = PRESETS[strategy]
        t0 = time.perf_counter()
        plan = solve(demands, candidates, weights, max_shipments=3, time_budget_ms=BUDGET_MS)
        times.append((time.perf_counter() - t0) * 1000)
        assert plan.method == "heuristic"
        reference = solve(
            demands,
            candidates,
            weights,
            max_shipments=3,
            time_budget_ms=10 * BUDGET_MS,
            method="exact",
        )
        if reference.optimal:
            proven += 1
            gaps.append(_gap(plan, reference))
    note = f"vs the MIP with {10 * BUDGET_MS} ms: proven on {proven}/{repeats}"
    if gaps:
        equal = sum(g <= 1e-9 for g in gaps)
        note += f", heuristic equal on {equal}, worst gap {max(gaps):.2f}%"
    return _row(f"heuristic {sites} sites x {lines} lines, max 3 shipments", times, note)


def run(quick: bool) -> list[dict[str, Any]]:
    repeats = 20 if quick else 100
    solve(*order(0, 3, 3)[:2], PRESETS["nearest"])  # warm-up (imports, HiGHS)
    return [
        _versus_brute_force(5, 10, repeats, None),
        _versus_brute_force(10, 30, repeats, None),
        _versus_brute_force(10, 30, repeats, 3),
        _versus_brute_force(12, 30, max(5, repeats // 4), 3),  # past the exact range
        _heuristic_large(max(5, repeats // 4)),
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
