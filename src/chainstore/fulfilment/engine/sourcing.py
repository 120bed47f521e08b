"""Order sourcing (订单自动分发): which ship-from sites send how much of each SKU of an order.

Pure Python (no Django, no database): the service layer turns sites, available-to-promise
and the delivery address into `Candidate`s and `Demand`s and stores the returned `Plan`.

The problem. Demands are aggregated by SKU (D_k milli-units, w_k grams per base unit). A
candidate site s has a distance d_s (km) to the customer, a parcel cost (base_s fen per
parcel plus per_kg_s fen per kg) and available stock a_sk. A plan ships x_sk <= a_sk from
each site; the sites that ship at least something are its shipments (parcels). Plans are
compared lexicographically:

1. more filled milli-units first (sum_k sum_s x_sk; with `max_shipments` M, at most M sites);
2. then the lower objective, summed over the shipping sites:
       weights.shipments + weights.distance * d_s + weights.cost * (base_s + per_kg_s * kg_s) / 100
   with kg_s = sum_k w_k * x_sk / 1_000_000 (grams per unit times milli-units);
3. then (objectives within `TIE` = 1e-6 of each other are equal) fewer shipments;
4. then the smaller sorted tuple of the shipping sites' (priority, site_id): stock comes from
   the site of lower priority number first, then the lower site id.

Sites are put in (priority, site_id) order and SKUs sorted before anything else, so the
result does not depend on the order of the inputs.

Given the set of shipping sites, the rest is easy: each SKU independently is filled as far as
those sites' stock allows, from the site with the lowest per-kg rate first (the only part of
the objective that depends on quantities), ties by (priority, site_id). That greedy is exact in
integers, so every method below chooses a *set of sites* and then derives the quantities with
it, and the objective is recomputed exactly (rational arithmetic) from those quantities.

Methods:
- `exact` (HiGHS, up to 10 sites with stock x 30 SKUs, and any instance with at most 300
  (site, SKU) pairs on at most 20 sites): a MIP with y_s binary (site used) and x_sk
  continuous (for a fixed y the per-SKU problem is a transportation problem, totally
  unimodular, so nothing is lost). Phase 1 (only when M binds) maximises the fill; phase 2
  keeps it and minimises the objective; phase 3 keeps that objective (+ TIE) and minimises
  sum_s y_s * (2^n - 2^(n-1-rank_s)): fewer sites, then the lexicographically smallest ranks.
  The heuristic's plan is the MIP start, so a time-limited run is never worse than it; a run
  stopped by `time_budget_ms` returns the best plan found with optimal=False. A phase 3 cut
  short keeps phase 2's plan (same objective; only the tie-break is then not guaranteed).
  With `method="auto"` and at most `ENUMERATE_SUBSETS` possible sets of shipping sites (up
  to 8 sites with stock, or 10 with at most 3 shipments: the everyday order) they are
  simply all evaluated, as `brute_force` does: the same optimum, 5-20x faster than the MIP
  (measured: 4 sites x 3 SKUs 0.7 ms instead of 14 ms; 10 x 30 with M=3 14 ms instead of
  300 ms). `method="exact"` always runs the MIP.
- `heuristic` (anything larger): greedy weighted set cover (add the site with the lowest
  marginal objective per newly covered share of the order's lines; most units first when M
  binds), then local search (swap or add one site, then drop what became dispensable) for up
  to 40 % of the budget, then a kernel search: the same MIP restricted to the plan's sites and
  the most promising others (10 sites in all), from the plan, for the rest of the budget.
  Never worse than the local search; optimal=False. Measured (bench/cases/sourcing.py): at 25
  sites x 60 SKUs it matches the MIP's proven optimum on most orders, within ~2 % on the rest.
- `brute_force`: every subset of sites, the oracle for tests and the benchmark.

Weights and `PRESETS`. The objective is in "points": `shipments` points per parcel,
`distance` points per km from the site to the customer, `cost` points per yuan of shipping
cost. Raising one weight relative to the others makes the plan favour that criterion:
- nearest (distance 1, shipments 1, cost 0.01): a parcel is worth 1 km and 100 yuan of cost
  is worth 1 km, so goods come from the closest stock even when that means splitting (two
  sites 10 and 20 km away beat one site 1,500 km away that has everything).
- fewest (distance 1, shipments 10,000, cost 1): a parcel is worth more than any distance in
  China, so the fewest parcels win (the far site with everything beats the two near ones);
  among plans with as many parcels, km and yuan decide.
- cheapest (distance 0.001, shipments 0, cost 1): points are yuan of parcel cost (each
  parcel's base cost already makes splits expensive); distance only breaks near-ties, 1,000 km
  being worth 1 yuan (a far site that is 1 yuan cheaper per parcel beats a near dear one).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

SiteId = int | str
TIE = 1e-6  # objectives closer than this are equal (then fewer sites, then site order)
EXACT_SITES, EXACT_SKUS = 10, 30  # the exact range
EXACT_PAIRS, EXACT_MAX_SITES = 300, 20  # also exact: small instances of another shape
ENUMERATE_SUBSETS = 256  # "auto" exact instances with this many site sets or fewer: all
KERNEL_SITES = 10  # the heuristic's final MIP is restricted to this many sites
LOCAL_SEARCH_SHARE = 0.4  # of the time budget, for the heuristic's local search
_TIE_FRACTION = Fraction(TIE)


@dataclass(frozen=True)
class Weights:
    """Points per km of distance, per shipment (parcel) and per yuan of shipping cost."""

    distance: float = 1.0
    shipments: float = 100.0
    cost: float = 1.0

    def __post_init__(self) -> None:
        for value in (self.distance, self.shipments, self.cost):
            if not math.isfinite(float(value)) or value < 0:
                raise ValueError("weights must be finite and not negative")


PRESETS: dict[str, Weights] = {
    "nearest": Weights(distance=1.0, shipments=1.0, cost=0.01),
    "fewest": Weights(distance=1.0, shipments=10_000.0, cost=1.0),
    "cheapest": Weights(distance=0.001, shipments=0.0, cost=1.0),
}


@dataclass(frozen=True)
class Candidate:
    """A site that may ship: its distance to the customer, parcel cost and available stock
    (milli-units by SKU id). `label` (e.g. the site code) is used in the summary."""

    site_id: SiteId
    distance_km: float
    base_cost_fen: int
    per_kg_cost_fen: int
    available: Mapping[int, int]
    priority: int = 0
    label: str = ""


@dataclass(frozen=True)
class Demand:
    sku_id: int
    quantity: int  # milli-units
    weight_g: float = 0  # per base unit; 0 when unknown


@dataclass(frozen=True)
class CandidateScore:
    """Why a site was (not) chosen: how much of the order it could ship, what shipping all
    of it alone would score (None when it cannot), and whether the plan uses it."""

    site_id: SiteId
    distance_km: float
    covers: int  # SKUs of the order it can ship in full
    covers_all: bool
    alone_score: float | None
    chosen: bool
    label: str = ""
    priority: int = 0
    fillable: int = 0  # milli-units of the order it could ship alone
    lines: int = 0  # SKUs it ships in the plan

    def as_json(self) -> dict[str, Any]:
        return {
            "site_id": str(self.site_id),
            "label": self.label or str(self.site_id),
            "distance_km": round(self.distance_km, 3),
            "priority": self.priority,
            "covers": self.covers,
            "covers_all": self.covers_all,
            "fillable": self.fillable,
            "alone_score": None if self.alone_score is None else round(self.alone_score, 6),
            "chosen": self.chosen,
            "lines": self.lines,
        }


@dataclass(frozen=True)
class ShipmentPlan:
    """One parcel of the plan: what a site ships, its weight, cost and objective share."""

    site_id: SiteId
    label: str
    lines: dict[int, int]
    kg: float
    cost_fen: int
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "site_id": str(self.site_id),
            "label": self.label,
            "lines": {str(sku): quantity for sku, quantity in self.lines.items()},
            "kg": round(self.kg, 3),
            "cost_fen": self.cost_fen,
            "score": round(self.score, 6),
        }


@dataclass
class Plan:
    assignments: dict[SiteId, dict[int, int]]  # site -> sku -> milli, shipping sites only
    unfilled: dict[int, int]  # sku -> milli that no site can ship (backorder)
    objective: float
    method: str  # exact | heuristic | brute_force
    optimal: bool
    elapsed_ms: float
    candidates: list[CandidateScore]
    shipments: list[ShipmentPlan] = field(default_factory=list)
    demanded: int = 0

    @property
    def filled(self) -> int:
        return sum(sum(lines.values()) for lines in self.assignments.values())

    @property
    def summary(self) -> str:
        """One line for people, e.g. "2 shipments: S001 (3 lines), W01 (1 line); 1 unit
        backordered" (English; the UI translates the labels around it, not this text)."""
        n = len(self.shipments)
        if n:
            parts = ", ".join(
                f"{s.label} ({len(s.lines)} line{'' if len(s.lines) == 1 else 's'})"
                for s in self.shipments
            )
            text = f"{n} shipment{'' if n == 1 else 's'}: {parts}"
        else:
            text = "No stock to ship"
        short = sum(self.unfilled.values())
        if short:
            units = _units(short)
            text += f"; {units} unit{'' if units == '1' else 's'} backordered"
        return text

    def as_json(self) -> dict[str, Any]:
        """JSON-safe parts for SourcingDecision (candidates, plan, unfilled) and the rest."""
        return {
            "method": self.method,
            "optimal": self.optimal,
            "objective": round(self.objective, 6),
            "elapsed_ms": round(self.elapsed_ms, 3),
            "summary": self.summary,
            "candidates": [c.as_json() for c in self.candidates],
            "plan": {
                "shipments": [s.as_json() for s in self.shipments],
                "demanded": self.demanded,
                "filled": self.filled,
            },
            "unfilled": {str(sku): quantity for sku, quantity in self.unfilled.items()},
        }


def _units(milli: int) -> str:
    whole, rest = divmod(milli, 1000)
    return str(whole) if not rest else f"{whole}.{rest:03d}".rstrip("0")


# -- the instance, canonical ------------------------------------------------------------
@dataclass
class _Instance:
    skus: list[int]  # sorted SKU ids
    demand: list[int]
    weight: list[int | Fraction]  # grams per base unit (int when whole: faster)
    sites: list[Candidate]  # by (priority, site_id): the index is the rank
    avail: list[list[int]]  # [site][sku], clipped to 0..demand
    fixed: list[Fraction]  # objective of a parcel before its weight
    rate: list[Fraction]  # objective per gram x milli-unit shipped
    order: list[list[int]]  # per SKU: sites with stock, by per-unit cost then rank
    useful: list[int]  # sites with stock of anything demanded
    max_shipments: int | None


@dataclass(frozen=True)
class _Eval:
    """A set of sites with its greedy (exact) quantities."""

    fill: int
    objective: Fraction
    used: tuple[int, ...]  # shipping sites, by rank
    x: dict[int, dict[int, int]]  # site -> sku index -> milli
    short: tuple[int, ...]  # per SKU index


def _instance(
    demands: Iterable[Demand],
    candidates: Iterable[Candidate],
    weights: Weights,
    max_shipments: int | None,
) -> _Instance:
    if max_shipments is not None and max_shipments < 1:
        raise ValueError("max_shipments must be at least 1 (or None)")
    quantity: dict[int, int] = {}
    weight: dict[int, Fraction] = {}
    for d in demands:
        if d.quantity < 0 or d.weight_g < 0:
            raise ValueError("demand quantities and weights must not be negative")
        if d.quantity:
            quantity[d.sku_id] = quantity.get(d.sku_id, 0) + int(d.quantity)
            weight[d.sku_id] = max(weight.get(d.sku_id, Fraction(0)), Fraction(d.weight_g))
    skus = sorted(quantity)
    sites = sorted(candidates, key=lambda c: (c.priority, c.site_id))
    if len({c.site_id for c in sites}) != len(sites):
        raise ValueError("candidate site ids must be unique")
    for c in sites:
        if not math.isfinite(c.distance_km) or c.distance_km < 0:
            raise ValueError("distances must be finite and not negative")
        if c.base_cost_fen < 0 or c.per_kg_cost_fen < 0:
            raise ValueError("shipping costs must not be negative")
    demand = [quantity[k] for k in skus]
    avail = [
        [max(0, min(int(c.available.get(k, 0)), demand[i])) for i, k in enumerate(skus)]
        for c in sites
    ]
    w_ship, w_dist, w_cost = (
        Fraction(v) for v in (weights.shipments, weights.distance, weights.cost)
    )
    fixed = [
        w_ship + w_dist * Fraction(c.distance_km) + w_cost * Fraction(c.base_cost_fen, 100)
        for c in sites
    ]
    rate = [w_cost * Fraction(c.per_kg_cost_fen, 100_000_000) for c in sites]
    order = [
        _by_unit_cost([s for s in range(len(sites)) if avail[s][i] > 0], rate, weight[k] > 0)
        for i, k in enumerate(skus)
    ]
    useful = [s for s in range(len(sites)) if any(avail[s])]
    return _Instance(
        skus=skus,
        demand=demand,
        weight=[int(weight[k]) if weight[k].denominator == 1 else weight[k] for k in skus],
        sites=sites,
        avail=avail,
        fixed=fixed,
        rate=rate,
        order=order,
        useful=useful,
        max_shipments=max_shipments,
    )


def _by_unit_cost(sites: list[int], rate: list[Fraction], weighed: bool) -> list[int]:
    """The greedy's order for one SKU: cheapest per unit first, then by rank. A SKU without
    weight costs the same everywhere, so only the rank counts."""
    return sorted(sites, key=lambda s: (rate[s] if weighed else 0, s))


def _assign(inst: _Instance, sites: Collection[int]) -> _Eval:
    chosen = set(sites)
    x: dict[int, dict[int, int]] = {}
    short = []
    avail = inst.avail
    for i, order in enumerate(inst.order):
        need = inst.demand[i]
        for s in order:
            if s in chosen:
                take = min(need, avail[s][i])
                if s in x:
                    x[s][i] = take
                else:
                    x[s] = {i: take}
                need -= take
                if not need:
                    break
        short.append(need)
    used = tuple(sorted(x))
    objective = sum((inst.fixed[s] + inst.rate[s] * _grams(inst, x[s]) for s in used), Fraction(0))
    return _Eval(
        fill=sum(inst.demand) - sum(short), objective=objective, used=used, x=x, short=tuple(short)
    )


def _grams(inst: _Instance, lines: Mapping[int, int]) -> int | Fraction:
    """Grams x milli-units (kg x 1e6) of what a site ships."""
    weight = inst.weight
    return sum(weight[i] * q for i, q in lines.items())


def _better(a: _Eval, b: _Eval) -> bool:
    """a before b in the plan order (module docstring: fill, objective, count, ranks)."""
    if a.fill != b.fill:
        return a.fill > b.fill
    if a.objective < b.objective - _TIE_FRACTION:
        return True
    if a.objective > b.objective + _TIE_FRACTION:
        return False
    return (len(a.used), a.used) < (len(b.used), b.used)


# -- the public entry points -------------------------------------------------------------
def solve(
    demands: Sequence[Demand],
    candidates: Sequence[Candidate],
    weights: Weights,
    *,
    max_shipments: int | None = None,
    time_budget_ms: float = 500,
    method: str = "auto",
) -> Plan:
    """The best plan (module docstring). `method` "auto" is exact for small instances and
    heuristic beyond; "exact" or "heuristic" force one (benchmarks, tests)."""
    if method not in ("auto", "exact", "heuristic"):
        raise ValueError(f"unknown method {method!r}")
    started = time.perf_counter()
    deadline = started + max(time_budget_ms, 1) / 1000
    inst = _instance(demands, candidates, weights, max_shipments)
    n, k = len(inst.useful), len(inst.skus)
    exact = method == "exact" or (
        method == "auto"
        and (
            (n <= EXACT_SITES and k <= EXACT_SKUS)
            or (n <= EXACT_MAX_SITES and n * k <= EXACT_PAIRS)
        )
    )
    optimal = False
    if method == "auto" and exact and _subsets(n, inst.max_shipments) <= ENUMERATE_SUBSETS:
        best, optimal = _enumerate(inst), True
    elif exact:
        best = _heuristic(inst, deadline)  # the MIP's start
        if n:
            best, optimal = _exact(inst, best, deadline)
        else:
            optimal = True  # nothing can ship
    else:
        best = _heuristic(inst, started + (deadline - started) * LOCAL_SEARCH_SHARE)
        best = _polish(inst, best, deadline)
    return _plan(inst, best, "exact" if exact else "heuristic", optimal, started)


def brute_force(
    demands: Sequence[Demand],
    candidates: Sequence[Candidate],
    weights: Weights,
    *,
    max_shipments: int | None = None,
) -> Plan:
    """Every subset of the sites with stock (at most `max_shipments` of them): the oracle."""
    started = time.perf_counter()
    inst = _instance(demands, candidates, weights, max_shipments)
    return _plan(inst, _enumerate(inst), "brute_force", True, started)


def _subsets(n: int, max_shipments: int | None) -> int:
    """How many sets of at most `max_shipments` of `n` sites there are (the empty one too)."""
    top = n if max_shipments is None else min(n, max_shipments)
    return sum(math.comb(n, j) for j in range(top + 1))


def _enumerate(inst: _Instance) -> _Eval:
    """The best plan over every allowed set of the sites with stock (rules 1-4 above)."""
    evals = []
    n = len(inst.useful)
    for mask in range(1 << n):
        subset = [inst.useful[j] for j in range(n) if mask >> j & 1]
        if inst.max_shipments is None or len(subset) <= inst.max_shipments:
            evals.append(_assign(inst, subset))
    fill = max(e.fill for e in evals)
    evals = [e for e in evals if e.fill == fill]
    lowest = min(e.objective for e in evals)
    ties = [e for e in evals if e.objective <= lowest + _TIE_FRACTION]
    return min(ties, key=lambda e: (len(e.used), e.used))


def _plan(inst: _Instance, best: _Eval, method: str, optimal: bool, started: float) -> Plan:
    shipments = []
    for s in best.used:
        site = inst.sites[s]
        grams = _grams(inst, best.x[s])
        cost = site.base_cost_fen + site.per_kg_cost_fen * grams / 1_000_000
        shipments.append(
            ShipmentPlan(
                site_id=site.site_id,
                label=site.label or str(site.site_id),
                lines={inst.skus[i]: q for i, q in sorted(best.x[s].items())},
                kg=float(grams / 1_000_000),
                cost_fen=round(cost),
                score=float(inst.fixed[s] + inst.rate[s] * grams),
            )
        )
    scores = []
    for s, site in enumerate(inst.sites):
        covers = sum(1 for i, a in enumerate(inst.avail[s]) if a == inst.demand[i])
        covers_all = bool(inst.skus) and covers == len(inst.skus)
        scores.append(
            CandidateScore(
                site_id=site.site_id,
                distance_km=site.distance_km,
                covers=covers,
                covers_all=covers_all,
                alone_score=float(_assign(inst, [s]).objective) if covers_all else None,
                chosen=s in best.x,
                label=site.label or str(site.site_id),
                priority=site.priority,
                fillable=sum(inst.avail[s]),
                lines=len(best.x.get(s, {})),
            )
        )
    return Plan(
        assignments={p.site_id: dict(p.lines) for p in shipments},
        unfilled={inst.skus[i]: q for i, q in enumerate(best.short) if q},
        objective=float(best.objective),
        method=method,
        optimal=optimal,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        candidates=scores,
        shipments=shipments,
        demanded=sum(inst.demand),
    )


# -- heuristic ----------------------------------------------------------------------------
def _heuristic(inst: _Instance, deadline: float) -> _Eval:
    limit = inst.max_shipments
    pool = inst.useful
    target = _assign(inst, pool).fill if limit is None or len(pool) <= limit else None
    current = _assign(inst, ())
    chosen: list[int] = []
    while (limit is None or len(chosen) < limit) and (target is None or current.fill < target):
        pick: tuple[Any, ...] | None = None
        for s in pool:
            if s in chosen:
                continue
            trial = _assign(inst, [*chosen, s])
            gain = trial.fill - current.fill
            if gain <= 0:
                continue
            share = sum(
                Fraction(before - after, inst.demand[i])
                for i, (before, after) in enumerate(zip(current.short, trial.short, strict=True))
            )
            ratio = (trial.objective - current.objective) / share
            key = (ratio, s) if target is not None else (-gain, ratio, s)
            if pick is None or key < pick[0]:
                pick = (key, s, trial)
        if pick is None:
            break
        chosen.append(pick[1])
        current = pick[2]
    return _improve(inst, current, deadline)


def _improve(inst: _Instance, current: _Eval, deadline: float) -> _Eval:
    """Local search: add or swap one site, then drop any sites that became dispensable;
    repeat the best such move while it gives a better plan."""
    limit = inst.max_shipments
    current = _prune(inst, current)
    while time.perf_counter() < deadline:
        used = list(current.used)
        outside = [s for s in inst.useful if s not in current.x]
        moves = [[*(t for t in used if t != s), o] for s in used for o in outside]
        if limit is None or len(used) < limit:
            moves += [[*used, t] for t in outside]
        best = current
        for sites in moves:
            trial = _prune(inst, _assign(inst, sites))
            if _better(trial, best):
                best = trial
        if best is current:
            break
        current = best
    return current


def _prune(inst: _Instance, current: _Eval) -> _Eval:
    """Drop sites one at a time (the best drop first) while that gives a better plan."""
    while True:
        best = current
        for s in current.used:
            trial = _assign(inst, [t for t in current.used if t != s])
            if _better(trial, best):
                best = trial
        if best is current:
            return current
        current = best


def _polish(inst: _Instance, best: _Eval, deadline: float) -> _Eval:
    """Kernel search: the exact MIP restricted to the plan's sites and the most promising
    others (lowest parcel objective per share of the order's lines they hold), from the
    plan, until the deadline. Never worse than the plan; not a proof of anything."""
    share = {
        s: sum(a / d for a, d in zip(inst.avail[s], inst.demand, strict=True)) for s in inst.useful
    }
    others = sorted(
        (s for s in inst.useful if s not in best.x),
        key=lambda s: (float(inst.fixed[s]) / share[s], s),
    )
    kernel = sorted([*best.used, *others[: max(0, KERNEL_SITES - len(best.used))]])
    if time.perf_counter() >= deadline:
        return best
    polished, _proven = _exact(replace(inst, useful=kernel), best, deadline, grace=0)
    return polished


# -- exact: HiGHS ---------------------------------------------------------------------------
_QUIET = threading.Lock()
_quieted = False


def _new_highs() -> Any:
    """A silent single-threaded Highs (the first one in a process prints a banner on stdout
    before options can be set, so that one is made with stdout pointed at /dev/null)."""
    global _quieted
    import highspy

    if not _quieted:
        with _QUIET:
            if not _quieted:
                saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                    highspy.Highs()
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
                    os.close(devnull)
                _quieted = True
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", 0.0)
    return h


@dataclass
class _Mip:
    """Columns: y[j] for j-th useful site, then x[(s, i)] for every site/SKU with stock."""

    x: dict[tuple[int, int], int]
    unit: list[float]  # phase 2 cost per column
    n: int


def _build(inst: _Instance, h: Any) -> _Mip:
    import highspy

    useful = inst.useful
    x_cols: dict[tuple[int, int], int] = {}
    upper = [1.0] * len(useful)
    cost = [float(inst.fixed[s]) for s in useful]
    for s in useful:
        for i, a in enumerate(inst.avail[s]):
            if a:
                x_cols[(s, i)] = len(upper)
                upper.append(float(a))
                cost.append(float(inst.rate[s] * inst.weight[i]))
    n = len(upper)
    h.addCols(
        n,
        np.zeros(n),
        np.zeros(n),
        np.array(upper, dtype=np.float64),
        0,
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.float64),
    )
    h.changeColsIntegrality(
        len(useful),
        np.arange(len(useful), dtype=np.int32),
        np.full(len(useful), int(highspy.HighsVarType.kInteger), dtype=np.uint8),
    )
    for i in range(len(inst.skus)):  # ship at most the demand
        cols = [col for (s, ii), col in x_cols.items() if ii == i]
        if cols:
            _row(h, [(c, 1.0) for c in cols], -highspy.kHighsInf, float(inst.demand[i]))
    for j, s in enumerate(useful):  # only from used sites
        for i, a in enumerate(inst.avail[s]):
            if a:
                _row(h, [(x_cols[(s, i)], 1.0), (j, -float(a))], -highspy.kHighsInf, 0.0)
    if inst.max_shipments is not None and inst.max_shipments < len(useful):
        _row(h, [(j, 1.0) for j in range(len(useful))], 0.0, float(inst.max_shipments))
    return _Mip(x=x_cols, unit=cost, n=n)


def _row(h: Any, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
    h.addRow(
        lower,
        upper,
        len(terms),
        np.array([c for c, _ in terms], dtype=np.int32),
        np.array([v for _, v in terms], dtype=np.float64),
    )


def _start(inst: _Instance, mip: _Mip, ev: _Eval) -> list[float]:
    values = [0.0] * mip.n
    for j, s in enumerate(inst.useful):
        values[j] = 1.0 if s in ev.x else 0.0
    for s, lines in ev.x.items():
        for i, q in lines.items():
            values[mip.x[(s, i)]] = float(q)
    return values


def _run(
    inst: _Instance, mip: _Mip, h: Any, costs: list[float], start: _Eval, deadline: float
) -> tuple[_Eval | None, bool]:
    """Minimise `costs` from `start` until the deadline: the plan of the sites the best
    solution uses (None if there is none) and whether HiGHS proved it optimal."""
    import highspy

    h.changeColsCost(mip.n, np.arange(mip.n, dtype=np.int32), np.array(costs, dtype=np.float64))
    h.setSolution(mip.n, np.arange(mip.n, dtype=np.int32), np.array(_start(inst, mip, start)))
    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.001))
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None, False
    values = h.getSolution().col_value
    sites = [s for j, s in enumerate(inst.useful) if values[j] > 0.5]
    return _assign(inst, sites), h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def _exact(
    inst: _Instance, start: _Eval, deadline: float, *, grace: float = 0.02
) -> tuple[_Eval, bool]:
    """The MIP over inst.useful from `start`: the best plan found and whether it is proven
    optimal. The tie-break (phase 3) gets at least `grace` seconds, even past the deadline."""
    import highspy

    h = _new_highs()
    mip = _build(inst, h)
    best = start
    proven = True
    x_cols = list(mip.x.values())
    limit = inst.max_shipments
    if limit is None or limit >= len(inst.useful):
        fill = _assign(inst, inst.useful).fill
    else:  # phase 1: the most that at most `limit` sites can fill (an integer: gap 0.5)
        h.setOptionValue("mip_abs_gap", 0.5)
        costs = [0.0] * mip.n
        for col in x_cols:
            costs[col] = -1.0
        found, proven = _run(inst, mip, h, costs, best, deadline)
        if found is not None and found.fill > best.fill:
            best = found
        fill = best.fill
    _row(h, [(c, 1.0) for c in x_cols], float(fill), highspy.kHighsInf)
    h.setOptionValue("mip_abs_gap", TIE / 10)
    found, done = _run(inst, mip, h, mip.unit, best, deadline)
    if found is not None and _better(found, best):
        best = found
    if not (proven and done):
        return best, False
    # Phase 3: among plans within TIE of the optimum, fewer sites, then lower ranks. Only a
    # finished run is used (a cut-off one would depend on the machine).
    tie_deadline = max(deadline, time.perf_counter() + grace)
    if time.perf_counter() >= tie_deadline:
        return best, True
    _row(h, list(enumerate(mip.unit)), -highspy.kHighsInf, float(best.objective) + TIE)
    n = len(inst.useful)
    ranks = [float(2**n - 2 ** (n - 1 - j)) for j in range(n)] + [0.0] * (mip.n - n)
    h.setOptionValue("mip_abs_gap", 0.5)
    tie, done = _run(inst, mip, h, ranks, best, tie_deadline)
    if done and tie is not None and tie.fill == fill and _better(tie, best):
        best = tie
    return best, True
