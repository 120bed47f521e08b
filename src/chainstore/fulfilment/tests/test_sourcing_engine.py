"""The sourcing engine against brute force, its invariants, the presets and the paths."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.fulfilment.engine import sourcing
from chainstore.fulfilment.engine.sourcing import (
    PRESETS,
    Candidate,
    Demand,
    Plan,
    Weights,
    brute_force,
    solve,
)
from chainstore.fulfilment.geo import city_centroid, distance_km

SETTINGS = settings(max_examples=60, deadline=None)
BUDGET_MS = 5_000  # generous in property tests: they check exactness, not speed


# -- instances ----------------------------------------------------------------------------
@st.composite
def instances(draw, *, grid: bool, max_sites: int = 8, max_skus: int = 12):
    """Random orders and sites. On the grid every objective is a whole number (integer km,
    weights, yuan per parcel and per kg, whole kilograms), so ties are exact and the chosen
    plan itself (not only its objective) must equal brute force's."""
    n_skus = draw(st.integers(1, max_skus))
    n_sites = draw(st.integers(1, max_sites))
    weights_g = [0, 1000, 2000] if grid else [0, 1, 250, 1000, 12_345]
    demands = []
    for k in range(n_skus):
        quantity = 1000 * draw(st.integers(1, 4)) if grid else draw(st.integers(1, 4000))
        demands.append(Demand(100 + k, quantity, draw(st.sampled_from(weights_g))))
    candidates = []
    for s in range(n_sites):
        stock = draw(
            st.dictionaries(
                st.sampled_from([d.sku_id for d in demands]),
                st.integers(0, 5).map(lambda q: q * 1000) if grid else st.integers(0, 5000),
                max_size=n_skus,
            )
        )
        if grid:
            distance: float = draw(st.integers(0, 40)) * 50
            base, per_kg = 100 * draw(st.integers(0, 12)), 100 * draw(st.integers(0, 4))
        else:
            distance = draw(st.floats(0, 3000, allow_nan=False))
            base, per_kg = draw(st.integers(0, 2000)), draw(st.integers(0, 500))
        candidates.append(
            Candidate(
                site_id=f"S{s:02d}",
                distance_km=distance,
                base_cost_fen=base,
                per_kg_cost_fen=per_kg,
                available=stock,
                priority=draw(st.integers(0, 2)),
            )
        )
    if grid:
        values = st.integers(0, 3).map(float)
        weights = Weights(distance=draw(values), shipments=100 * draw(values), cost=draw(values))
    else:
        weights = draw(
            st.sampled_from([*PRESETS.values(), Weights()])
            | st.builds(
                Weights,
                st.floats(0, 5, allow_nan=False),
                st.floats(0, 5000, allow_nan=False),
                st.floats(0, 5, allow_nan=False),
            )
        )
    max_shipments = draw(st.none() | st.integers(1, 3))
    return demands, candidates, weights, max_shipments


def max_fillable(demands, candidates, max_shipments) -> int:
    """The most milli-units any set of at most max_shipments sites can ship (independent of
    the engine: per SKU, min(demand, stock of the set))."""
    need: dict[int, int] = defaultdict(int)
    for d in demands:
        need[d.sku_id] += d.quantity
    size = len(candidates) if max_shipments is None else min(max_shipments, len(candidates))
    best = 0
    for subset in itertools.combinations(candidates, size):
        best = max(
            best,
            sum(min(q, sum(c.available.get(k, 0) for c in subset)) for k, q in need.items()),
        )
    return best


def objective_of(plan: Plan, demands, candidates, weights) -> float:
    """The objective recomputed from the plan's quantities with the documented formula."""
    grams = {d.sku_id: d.weight_g for d in demands}
    by_id = {c.site_id: c for c in candidates}
    total = 0.0
    for site_id, lines in plan.assignments.items():
        c = by_id[site_id]
        kg = sum(grams[k] * q for k, q in lines.items()) / 1_000_000
        total += (
            weights.shipments
            + weights.distance * c.distance_km
            + weights.cost * (c.base_cost_fen + c.per_kg_cost_fen * kg) / 100
        )
    return total


def assert_feasible(plan: Plan, demands, candidates, max_shipments) -> None:
    need: dict[int, int] = defaultdict(int)
    for d in demands:
        need[d.sku_id] += d.quantity
    by_id = {c.site_id: c for c in candidates}
    shipped: dict[int, int] = defaultdict(int)
    for site_id, lines in plan.assignments.items():
        assert lines, "a shipment ships something"
        for sku, quantity in lines.items():
            assert isinstance(quantity, int) and quantity > 0
            assert quantity <= by_id[site_id].available.get(sku, 0)
            shipped[sku] += quantity
    for sku, quantity in need.items():
        assert shipped[sku] + plan.unfilled.get(sku, 0) == quantity
    assert set(shipped) | set(plan.unfilled) <= set(need)
    assert all(q > 0 for q in plan.unfilled.values())
    if max_shipments is not None:
        assert len(plan.assignments) <= max_shipments
    assert [s.site_id for s in plan.shipments] == list(plan.assignments)
    assert {c.site_id for c in plan.candidates if c.chosen} == set(plan.assignments)
    assert len(plan.candidates) == len(candidates)
    json.dumps(plan.as_json())


# -- exactness against brute force ----------------------------------------------------------
@SETTINGS
@given(instances(grid=True))
def test_plan_equals_brute_force_on_exact_ties(instance):
    demands, candidates, weights, max_shipments = instance
    plan = solve(
        demands, candidates, weights, max_shipments=max_shipments, time_budget_ms=BUDGET_MS
    )
    oracle = brute_force(demands, candidates, weights, max_shipments=max_shipments)
    assert plan.optimal and plan.method == "exact"
    assert plan.filled == oracle.filled == max_fillable(demands, candidates, max_shipments)
    assert plan.objective == pytest.approx(oracle.objective, abs=1e-6)
    # Same objective, then fewer shipments, then (priority, site id): the very same plan.
    assert plan.assignments == oracle.assignments
    assert plan.unfilled == oracle.unfilled
    assert_feasible(plan, demands, candidates, max_shipments)


@SETTINGS
@given(instances(grid=False))
def test_objective_equals_brute_force(instance):
    demands, candidates, weights, max_shipments = instance
    plan = solve(
        demands, candidates, weights, max_shipments=max_shipments, time_budget_ms=BUDGET_MS
    )
    oracle = brute_force(demands, candidates, weights, max_shipments=max_shipments)
    assert plan.optimal
    assert plan.filled == oracle.filled == max_fillable(demands, candidates, max_shipments)
    assert plan.objective == pytest.approx(oracle.objective, abs=1e-6)
    assert plan.objective == pytest.approx(objective_of(plan, demands, candidates, weights))
    assert oracle.objective == pytest.approx(objective_of(oracle, demands, candidates, weights))
    assert_feasible(plan, demands, candidates, max_shipments)
    assert_feasible(oracle, demands, candidates, max_shipments)


def exhaustive_best(demands, candidates, weights, max_shipments) -> tuple[int, float]:
    """(fill, objective) of the best plan over every integer assignment in whole units: an
    oracle that shares nothing with the engine (not even its greedy), for tiny instances."""
    per_sku = []
    for d in demands:
        ranges = [
            range(0, min(c.available.get(d.sku_id, 0), d.quantity) + 1, 1000) for c in candidates
        ]
        per_sku.append([x for x in itertools.product(*ranges) if sum(x) <= d.quantity])
    best: tuple[int, float] | None = None
    for choice in itertools.product(*per_sku):
        plan = Plan({}, {}, 0.0, "", True, 0.0, [])
        for j, c in enumerate(candidates):
            lines = {d.sku_id: x[j] for d, x in zip(demands, choice, strict=True) if x[j]}
            if lines:
                plan.assignments[c.site_id] = lines
        if max_shipments is not None and len(plan.assignments) > max_shipments:
            continue
        key = (plan.filled, objective_of(plan, demands, candidates, weights))
        if best is None or key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
            best = key
    assert best is not None
    return best


@settings(max_examples=40, deadline=None)
@given(instances(grid=True, max_sites=3, max_skus=3))
def test_brute_force_and_solve_equal_exhaustive_enumeration(instance):
    demands, candidates, weights, max_shipments = instance
    fill, objective = exhaustive_best(demands, candidates, weights, max_shipments)
    mip = solve(
        demands,
        candidates,
        weights,
        max_shipments=max_shipments,
        time_budget_ms=BUDGET_MS,
        method="exact",  # "auto" evaluates every site set this small; the MIP must agree
    )
    for plan in (
        brute_force(demands, candidates, weights, max_shipments=max_shipments),
        solve(demands, candidates, weights, max_shipments=max_shipments, time_budget_ms=BUDGET_MS),
        mip,
    ):
        assert plan.filled == fill
        assert plan.objective == pytest.approx(objective, abs=1e-6)


@SETTINGS
@given(instances(grid=False), st.randoms(use_true_random=False))
def test_same_plan_whatever_the_input_order(instance, rng):
    demands, candidates, weights, max_shipments = instance
    first = solve(
        demands, candidates, weights, max_shipments=max_shipments, time_budget_ms=BUDGET_MS
    )
    # The same order in another shape: lines split in two, shuffled; sites shuffled.
    split = []
    for d in demands:
        part = d.quantity // 2
        split += [
            Demand(d.sku_id, part, d.weight_g),
            Demand(d.sku_id, d.quantity - part, d.weight_g),
        ]
    rng.shuffle(split)
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    second = solve(split, shuffled, weights, max_shipments=max_shipments, time_budget_ms=BUDGET_MS)
    assert second.assignments == first.assignments
    assert list(second.assignments) == list(first.assignments)
    assert second.unfilled == first.unfilled
    assert second.objective == first.objective
    assert [c.as_json() for c in second.candidates] == [c.as_json() for c in first.candidates]


def random_instance(seed: int, sites: int, skus: int):
    rng = random.Random(seed)
    demands = [
        Demand(1000 + k, 1000 * rng.randint(1, 6), rng.choice([0, 150, 800, 2400]))
        for k in range(skus)
    ]
    candidates = [
        Candidate(
            site_id=s,
            distance_km=rng.uniform(2, 2500),
            base_cost_fen=rng.choice([600, 800, 1000, 1500]),
            per_kg_cost_fen=rng.choice([100, 200, 300]),
            available={d.sku_id: 1000 * rng.randint(0, 8) for d in demands if rng.random() < 0.55},
            priority=rng.randint(0, 1),
        )
        for s in range(sites)
    ]
    return demands, candidates


@pytest.mark.parametrize("strategy", sorted(PRESETS))
def test_ten_sites_thirty_lines_is_exact_within_the_budget(strategy):
    demands, candidates = random_instance(seed=4, sites=10, skus=30)
    weights = PRESETS[strategy]
    plan = solve(demands, candidates, weights, time_budget_ms=500)
    oracle = brute_force(demands, candidates, weights)
    assert plan.method == "exact"
    assert plan.optimal  # proven by HiGHS inside its 500 ms time limit
    assert plan.filled == oracle.filled
    assert plan.objective == pytest.approx(oracle.objective, abs=1e-6)
    assert plan.assignments == oracle.assignments
    assert plan.elapsed_ms < 2_000
    assert_feasible(plan, demands, candidates, None)


def test_large_orders_use_the_heuristic_and_stay_feasible():
    demands, candidates = random_instance(seed=7, sites=25, skus=60)
    weights = PRESETS["fewest"]
    plan = solve(demands, candidates, weights, time_budget_ms=2_000)
    assert (plan.method, plan.optimal) == ("heuristic", False)
    assert_feasible(plan, demands, candidates, None)
    assert plan.filled == max_fillable(demands, candidates, None)
    assert plan.objective == pytest.approx(objective_of(plan, demands, candidates, weights))
    # Never worse than shipping from the best site that can fill the same on its own.
    alone = [c.alone_score for c in plan.candidates if c.alone_score is not None]
    if alone:
        assert plan.objective <= min(alone) + 1e-6
    limited = solve(demands, candidates, weights, max_shipments=2, time_budget_ms=2_000)
    assert_feasible(limited, demands, candidates, 2)


def test_a_cut_short_solve_still_returns_a_feasible_plan():
    demands, candidates = random_instance(seed=11, sites=10, skus=30)
    plan = solve(
        demands, candidates, PRESETS["nearest"], max_shipments=2, time_budget_ms=1, method="exact"
    )
    assert_feasible(plan, demands, candidates, 2)
    assert plan.filled > 0


@pytest.mark.parametrize(("sites", "max_shipments"), [(4, None), (10, 3)])
def test_everyday_orders_evaluate_every_site_set_and_agree_with_the_mip(sites, max_shipments):
    for seed in range(5):
        demands, candidates = random_instance(seed=seed, sites=sites, skus=8)
        weights = PRESETS["fewest"]
        auto = solve(demands, candidates, weights, max_shipments=max_shipments)
        mip = solve(demands, candidates, weights, max_shipments=max_shipments, method="exact")
        assert (auto.method, auto.optimal) == ("exact", True)
        assert auto.assignments == mip.assignments
        assert auto.objective == pytest.approx(mip.objective, abs=1e-6)


# -- presets ---------------------------------------------------------------------------------
def site(site_id, km, stock, base=800, per_kg=200, priority=0):
    return Candidate(site_id, km, base, per_kg, stock, priority=priority, label=site_id)


def test_nearest_splits_between_near_sites_fewest_takes_the_far_site_with_everything():
    # The module docstring's example: two sites 10 and 20 km away hold one SKU each; one
    # site 1,500 km away holds both.
    demands = [Demand(1, 2000, 500), Demand(2, 1000, 500)]
    candidates = [
        site("A", 10, {1: 2000}),
        site("B", 20, {2: 5000}),
        site("C", 1500, {1: 9000, 2: 9000}),
    ]
    nearest = solve(demands, candidates, PRESETS["nearest"])
    fewest = solve(demands, candidates, PRESETS["fewest"])
    assert nearest.assignments == {"A": {1: 2000}, "B": {2: 1000}}
    assert fewest.assignments == {"C": {1: 2000, 2: 1000}}
    assert nearest.summary == "2 shipments: A (1 line), B (1 line)"
    assert fewest.summary == "1 shipment: C (2 lines)"
    # Without a split allowed, even "nearest" must use the one site that has everything.
    assert solve(demands, candidates, PRESETS["nearest"], max_shipments=1).assignments == {
        "C": {1: 2000, 2: 1000}
    }


def test_cheapest_takes_the_cheap_far_site_nearest_the_dear_near_one():
    demands = [Demand(1, 3000, 1000)]
    candidates = [
        site("NEAR", 15, {1: 3000}, base=1800, per_kg=400),
        site("FAR", 1200, {1: 3000}, base=600, per_kg=100),
    ]
    assert set(solve(demands, candidates, PRESETS["cheapest"]).assignments) == {"FAR"}
    assert set(solve(demands, candidates, PRESETS["nearest"]).assignments) == {"NEAR"}
    assert set(solve(demands, candidates, PRESETS["fewest"]).assignments) == {"NEAR"}


def test_ties_go_to_fewer_sites_then_priority_then_site_id():
    demands = [Demand(1, 1000, 0)]
    same = {"distance_km": 100, "base_cost_fen": 800, "per_kg_cost_fen": 200}
    candidates = [
        Candidate("W2", available={1: 1000}, priority=0, **same),
        Candidate("W1", available={1: 1000}, priority=1, **same),
        Candidate("W0", available={1: 1000}, priority=1, **same),
    ]
    weights = Weights(distance=1, shipments=0, cost=0)
    assert list(solve(demands, candidates, weights).assignments) == ["W2"]
    assert list(solve(demands, candidates[1:], weights).assignments) == ["W0"]
    assert list(brute_force(demands, candidates[1:], weights).assignments) == ["W0"]


def test_backorder_summary_scores_and_json():
    demands = [Demand(7, 2500, 200), Demand(8, 1000, 0), Demand(7, 500, 200)]
    candidates = [
        site("S001", 5, {7: 2000, 8: 1000}),
        site("W01", 300, {7: 1000, 9: 4000}, priority=1),
        site("X", 20, {9: 1000}),
    ]
    plan = solve(demands, candidates, PRESETS["fewest"])
    assert plan.assignments == {"S001": {7: 2000, 8: 1000}, "W01": {7: 1000}}
    assert plan.unfilled == {}
    assert plan.summary == "2 shipments: S001 (2 lines), W01 (1 line)"
    short = solve(demands, candidates, PRESETS["fewest"], max_shipments=1)
    assert short.assignments == {"S001": {7: 2000, 8: 1000}}
    assert short.unfilled == {7: 1000}
    assert short.summary == "1 shipment: S001 (2 lines); 1 unit backordered"
    scores = {c.site_id: c for c in plan.candidates}
    assert (scores["S001"].covers, scores["S001"].covers_all, scores["S001"].fillable) == (
        1,
        False,
        3000,
    )
    assert scores["X"].covers == 0 and not scores["X"].chosen and scores["X"].alone_score is None
    data = plan.as_json()
    assert data["plan"]["shipments"][0] == {
        "site_id": "S001",
        "label": "S001",
        "lines": {"7": 2000, "8": 1000},
        "kg": 0.4,
        "cost_fen": 880,  # 800 + 200 fen/kg x 0.4 kg
        "score": pytest.approx(10_000 + 5 + 8.8),
    }
    assert data["unfilled"] == {} and data["plan"]["filled"] == data["plan"]["demanded"] == 4000
    assert json.loads(json.dumps(data)) == data
    nothing = solve([Demand(1, 1500, 0)], [site("A", 1, {})], PRESETS["nearest"])
    assert nothing.summary == "No stock to ship; 1.5 units backordered"
    assert (nothing.assignments, nothing.unfilled) == ({}, {1: 1500})


def test_alone_score_is_the_objective_of_shipping_everything_from_that_site():
    demands = [Demand(1, 2000, 1500)]
    candidates = [site("A", 40, {1: 2000}, base=700, per_kg=300)]
    weights = Weights(distance=2, shipments=50, cost=1)
    plan = solve(demands, candidates, weights)
    # 50 + 2 x 40 km + (700 + 300 x 3 kg) / 100 yuan
    assert plan.candidates[0].alone_score == pytest.approx(50 + 80 + 16)
    assert plan.objective == pytest.approx(146)


def test_each_sku_comes_from_the_cheaper_per_kg_site_first():
    # Both sites ship anyway (only A has SKU 2); SKU 1 is cheaper per kg from A.
    demands = [Demand(1, 2000, 1000), Demand(2, 1000, 0)]
    candidates = [
        site("B", 10, {1: 2000}, per_kg=400),
        site("A", 10, {1: 1000, 2: 1000}, per_kg=100, priority=1),
    ]
    plan = solve(demands, candidates, PRESETS["cheapest"])
    assert plan.assignments == {"B": {1: 1000}, "A": {1: 1000, 2: 1000}}
    assert brute_force(demands, candidates, PRESETS["cheapest"]).assignments == plan.assignments


def local_search(demands, candidates, weights, max_shipments):
    """The heuristic's greedy + local search alone (the MIP's start): the instances below
    are ones it gets wrong, so they test the MIP's phases."""
    instance = sourcing._instance(demands, candidates, weights, max_shipments)
    return sourcing._heuristic(instance, time.perf_counter() + 10)


def test_exact_finds_the_fullest_plan_where_the_heuristic_does_not():
    # Two sites at most: the greedy takes S4 (most units) and no single swap helps; S0 + S1
    # fill everything. Phase 1 of the MIP (most filled) is what finds it.
    demands = [Demand(0, 3000, 1000), Demand(1, 3000, 1000), Demand(2, 2000, 0)]
    candidates = [
        site("S0", 550, {0: 1000, 2: 2000}, base=900, per_kg=100),
        site("S1", 550, {1: 3000}, base=900, per_kg=200),
        site("S2", 700, {2: 1000}, base=300, per_kg=100),
        site("S3", 450, {2: 1000}, base=500, per_kg=300),
        site("S4", 250, {1: 2000, 2: 2000}, base=700, per_kg=200),
        site("S5", 600, {1: 2000}, base=500, per_kg=100),
    ]
    weights = PRESETS["cheapest"]
    plan = solve(demands, candidates, weights, max_shipments=2)
    assert local_search(demands, candidates, weights, 2).fill == 5000  # a hard instance
    assert (plan.filled, plan.optimal) == (6000, True)
    assert plan.assignments == {"S0": {0: 1000, 2: 2000}, "S1": {1: 3000}}
    assert plan.unfilled == {0: 2000}


def test_exact_finds_the_cheapest_plan_where_the_heuristic_does_not():
    demands = [Demand(0, 2000, 1000), Demand(1, 1000), Demand(2, 2000), Demand(3, 1000)]
    demands.append(Demand(4, 2000, 1000))
    candidates = [
        site("S0", 950, {0: 2000, 1: 2000, 2: 3000, 3: 2000, 4: 1000}, base=900, per_kg=300),
        site("S1", 150, {0: 1000}, base=1000, per_kg=100),
        site("S2", 650, {0: 1000, 4: 1000}, base=500, per_kg=100),
        site("S3", 150, {1: 1000, 2: 3000}, base=200, per_kg=300),
        site("S4", 550, {0: 3000, 1: 1000, 3: 3000, 4: 1000}, base=0, per_kg=300),
    ]
    weights = Weights(distance=1, shipments=100, cost=1)
    plan = solve(demands, candidates, weights, max_shipments=3)
    assert local_search(demands, candidates, weights, 3).objective == 1721  # a local optimum
    assert (plan.objective, plan.optimal) == (pytest.approx(1665), True)
    assert set(plan.assignments) == {"S2", "S3", "S4"}


def test_equal_objectives_go_to_fewer_sites_even_past_a_local_optimum():
    # With every weight 0 all plans score 0: the tie-break alone decides. The greedy takes
    # A, B, C (lowest ranks first) and no single swap or drop reaches D + E, which ship
    # everything in two parcels; phase 3 of the MIP (fewest sites among equals) does.
    demands = [Demand(k, 1000) for k in (1, 2, 3, 4)]
    candidates = [
        site("A", 1, {1: 1000, 3: 1000}),
        site("B", 2, {2: 1000}),
        site("C", 3, {4: 1000}),
        site("D", 4, {1: 1000, 2: 1000}),
        site("E", 5, {3: 1000, 4: 1000}),
    ]
    weights = Weights(distance=0, shipments=0, cost=0)
    assert local_search(demands, candidates, weights, None).used == (0, 1, 2)  # A, B, C
    assert list(solve(demands, candidates, weights).assignments) == ["D", "E"]
    assert list(brute_force(demands, candidates, weights).assignments) == ["D", "E"]


@pytest.mark.parametrize(
    ("demands", "candidates", "max_shipments"),
    [
        ([Demand(1, 1000)], [site("A", 1, {1: 1000})], 0),
        ([Demand(1, 1000)], [site("A", 1, {}), site("A", 2, {1: 1000})], None),
        ([Demand(1, -1000)], [site("A", 1, {1: 1000})], None),
        ([Demand(1, 1000)], [site("A", -1, {1: 1000})], None),
    ],
    ids=["no shipments", "duplicate site", "negative quantity", "negative distance"],
)
def test_invalid_input_is_refused(demands, candidates, max_shipments):
    with pytest.raises(ValueError):
        solve(demands, candidates, Weights(), max_shipments=max_shipments)


def test_negative_weights_are_refused():
    with pytest.raises(ValueError):
        Weights(distance=-1)


# -- geo ---------------------------------------------------------------------------------------
def test_haversine_distance():
    beijing, shanghai = city_centroid("北京"), city_centroid("上海")
    assert beijing and shanghai
    assert distance_km(*beijing, *shanghai) == pytest.approx(1067, abs=5)
    assert distance_km(*shanghai, *shanghai) == 0
    assert distance_km(0, 0, 0, 180) == pytest.approx(20_015, rel=1e-3)  # half the equator


@pytest.mark.parametrize(
    "name", ["上海", "上海市", "Shanghai", "shanghai", "Shanghai City", " 上海市 ", "SHANGHAI"]
)
def test_city_centroid_spellings(name):
    assert city_centroid(name) == (31.2304, 121.4737)


def test_city_centroid_with_province_and_unknown_cities():
    assert city_centroid("广东省深圳市") == city_centroid("深圳")
    assert city_centroid("Xi'an") == city_centroid("西安") == city_centroid("xian")
    assert city_centroid("乌鲁木齐市") is not None
    assert city_centroid("Atlantis") is None
    assert city_centroid("") is None
    assert city_centroid("市") is None
