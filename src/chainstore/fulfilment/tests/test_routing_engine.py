"""Pick routes: Ratliff-Rosenthal equals Held-Karp on single blocks, routes are closed walks
along aisles and cross-aisles from the depot that pass every pick in the order reported, the
multi-block heuristic stays within the stated gap, and the baselines are never shorter."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.fulfilment.engine.routing import (
    Layout,
    Point,
    Route,
    held_karp,
    heuristic_route,
    in_sequence,
    optimal_route,
    ratliff_rosenthal,
    s_shape,
    snap,
    walk_distance,
)

TOL = 1e-6
# The multi-block heuristic's stated gaps (measured: 0 on 150 random 10-12-pick instances
# against Held-Karp; at most 0.6 % with 100 kicks and 0 with the default 300 ms budget on 30
# random 20-60-pick instances against the best of three 1,500-kick runs).
GAP_VS_EXACT = 0.05
GAP_VS_LONG_RUNS = 0.02


# -- checking a route independently of the engine --------------------------------------------
def on_network(layout: Layout, a: tuple[float, float], b: tuple[float, float]) -> bool:
    (x0, y0), (x1, y1) = a, b
    if x0 == x1 and x0 in layout.aisles:
        return layout.front <= min(y0, y1) and max(y0, y1) <= layout.back
    return y0 == y1 and y0 in layout.cross_aisles


def passes(path: tuple[tuple[float, float], ...], p: Point) -> list[float]:
    """Distances walked along the path each time it reaches p."""
    out = [0.0] if path[0] == (p.x, p.y) else []
    walked = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        if min(x0, x1) <= p.x <= max(x0, x1) and min(y0, y1) <= p.y <= max(y0, y1):
            out.append(walked + abs(p.x - x0) + abs(p.y - y0))
        walked += abs(x1 - x0) + abs(y1 - y0)
    return out


def tour_length(layout: Layout, picks: list[Point], order: tuple[int, ...]) -> float:
    stops = [layout.depot_point, *(picks[i] for i in order), layout.depot_point]
    return sum(walk_distance(layout, a, b) for a, b in itertools.pairwise(stops))


def assert_feasible(layout: Layout, picks: list[Point], route: Route) -> None:
    path = route.path
    assert path[0] == layout.depot and path[-1] == layout.depot
    assert all(on_network(layout, a, b) for a, b in itertools.pairwise(path)), path
    walked = sum(abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in itertools.pairwise(path))
    assert walked == pytest.approx(route.length, abs=TOL)
    assert sorted(route.order) == list(range(len(picks)))
    at = 0.0  # the path passes the picks in the order reported
    for i in route.order:
        at = min((d for d in passes(path, picks[i]) if d >= at - TOL), default=float("inf"))
        assert at < float("inf"), (picks[i], path)
    if route.method != "in_sequence":  # and that is the order it first reaches them
        first = [passes(path, picks[i])[0] for i in route.order]
        assert first == sorted(first)
    # walking the reported order by shortest paths is never longer than the path drawn
    assert tour_length(layout, picks, route.order) <= route.length + TOL


# -- instances ------------------------------------------------------------------------------
@st.composite
def single_block(draw: st.DrawFn) -> tuple[Layout, list[Point]]:
    aisles = sorted(draw(st.sets(st.integers(0, 40), min_size=1, max_size=10)))
    xs = [a * 1.5 for a in aisles]
    front = draw(st.sampled_from([0.0, 1.5]))
    back = front + draw(st.integers(2, 30))
    where = draw(st.sampled_from(["front_aisle", "front_any", "back_any", "inside"]))
    if where == "front_aisle":
        depot = (draw(st.sampled_from(xs)), front)
    elif where == "inside":
        depot = (draw(st.sampled_from(xs)), front + draw(st.integers(0, int(back - front))))
    else:
        x = draw(st.integers(int(xs[0] * 2) - 10, int(xs[-1] * 2) + 10)) / 2
        depot = (x, front if where == "front_any" else back)
    layout = Layout(tuple(xs), (front, back), depot)
    ys = st.integers(0, int((back - front) * 2)).map(lambda k: front + k / 2)
    picks = draw(st.lists(st.builds(Point, st.sampled_from(xs), ys), max_size=12))
    if picks and draw(st.booleans()):  # several picks at one point
        picks.insert(draw(st.integers(0, len(picks))), draw(st.sampled_from(picks)))
    return layout, picks[:12]


def multi_block(rng: random.Random, picks: int) -> tuple[Layout, list[Point]]:
    aisles = tuple(3.0 * a for a in range(1, rng.randint(4, 12) + 1))
    cross = rng.choice([(0.0, 12.0, 24.0), (0.0, 10.0, 20.0, 30.0)])
    depot = (rng.choice([aisles[0], 0.0, aisles[len(aisles) // 2]]), 0.0)
    layout = Layout(aisles, cross, depot)
    points = [Point(rng.choice(aisles), round(rng.uniform(0, cross[-1]), 1)) for _ in range(picks)]
    return layout, points


# -- single block: exact ----------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_block())
def test_ratliff_rosenthal_equals_held_karp_and_walks_every_pick(case):
    layout, picks = case
    rr = ratliff_rosenthal(layout, picks)
    exact = held_karp(layout, picks)
    assert rr.length == pytest.approx(exact.length, abs=TOL)
    assert rr.optimal and rr.method == "ratliff_rosenthal"
    assert_feasible(layout, picks, rr)
    assert_feasible(layout, picks, exact)
    assert tour_length(layout, picks, rr.order) == pytest.approx(rr.length, abs=TOL)


@settings(max_examples=150, deadline=None)
@given(single_block())
def test_baselines_are_feasible_and_never_shorter(case):
    layout, picks = case
    best = optimal_route(layout, picks)
    for baseline in (s_shape(layout, picks), in_sequence(layout, picks)):
        assert_feasible(layout, picks, baseline)
        assert best.length <= baseline.length + TOL
    assert in_sequence(layout, picks).order == tuple(range(len(picks)))


def test_held_karp_equals_brute_force():
    rng = random.Random(4)
    for _ in range(40):
        layout, picks = multi_block(rng, rng.randint(1, 6))
        brute = min(
            tour_length(layout, picks, order) for order in itertools.permutations(range(len(picks)))
        )
        assert held_karp(layout, picks).length == pytest.approx(brute, abs=TOL)


def test_hand_computed_routes():
    # one aisle, depot at its front: up to the farthest pick and back
    one = Layout((0.0,), (0.0, 10.0), (0.0, 0.0))
    route = ratliff_rosenthal(one, [Point(0, 3), Point(0, 7)])
    assert route.length == 14 and route.order == (0, 1)
    assert route.path == ((0, 0), (0, 7), (0, 0))
    # two aisles deep in: a loop (20 + 10 + 20 + 10) beats two returns (30 + 30 + 20)
    two = Layout((0.0, 10.0), (0.0, 20.0), (0.0, 0.0))
    assert ratliff_rosenthal(two, [Point(0, 15), Point(10, 15)]).length == 60
    # depot between the aisles: 5 along the front, 2 up, and back
    assert (
        ratliff_rosenthal(Layout((0.0, 10.0), (0.0, 20.0), (5.0, 0.0)), [Point(0, 2)]).length == 14
    )
    # depot on the back cross-aisle, off the aisles: 5 along the back, 18 down, and back
    back = Layout((0.0, 10.0), (0.0, 20.0), (5.0, 20.0))
    route = ratliff_rosenthal(back, [Point(0, 2)])
    assert route.length == 46 and route.path[0] == (5.0, 20.0)
    # depot inside an aisle with all the picks: up and down inside it
    inside = Layout((0.0, 10.0), (0.0, 20.0), (10.0, 8.0))
    assert ratliff_rosenthal(inside, [Point(10, 4), Point(10, 12)]).length == 16
    # every pick at the depot: nothing to walk
    at_depot = ratliff_rosenthal(two, [Point(0, 0), Point(0, 0)])
    assert at_depot.length == 0 and at_depot.order == (0, 1) and at_depot.path == ((0, 0),)


def test_s_shape_hand_computed():
    layout = Layout((0.0, 10.0, 20.0), (0.0, 10.0), (0.0, 0.0))
    picks = [Point(0, 5), Point(10, 5), Point(20, 5)]
    # up aisle 0, along the back, down aisle 10, along the front, return in aisle 20, home
    route = s_shape(layout, picks)
    assert route.length == 10 + 10 + 10 + 10 + 10 + 20
    assert route.order == (0, 1, 2)
    assert optimal_route(layout, picks).length <= route.length


def test_walk_distance():
    layout = Layout((0.0, 3.0, 6.0), (0.0, 10.0, 20.0), (1.0, 0.0))
    assert walk_distance(layout, Point(0, 2), Point(0, 17)) == 15
    assert walk_distance(layout, Point(0, 8), Point(6, 13)) == 6 + 5  # via the middle
    assert walk_distance(layout, Point(0, 12), Point(3, 14)) == 3 + 2 + 4  # via y=10
    assert walk_distance(layout, layout.depot_point, Point(6, 4)) == 5 + 4
    assert walk_distance(layout, Point(6, 4), layout.depot_point) == 5 + 4


def test_layout_and_snap():
    layout = Layout((6.0, 0.0, 3.0), (20.0, 0.0), (2.0, 3.0))
    assert layout.aisles == (0.0, 3.0, 6.0) and layout.cross_aisles == (0.0, 20.0)
    assert layout.depot == (2.0, 0.0)  # off the network: onto the nearest cross-aisle
    assert Layout((0.0,), (0.0, 9.0), (0.0, 4.0)).depot == (0.0, 4.0)  # in the aisle
    assert snap(layout, 1.4, 25) == Point(0.0, 20.0)
    assert snap(layout, 1.5, -1) == Point(0.0, 0.0)  # a tie: the lower x
    assert snap(layout, 5.0, 7.5) == Point(6.0, 7.5)
    with pytest.raises(ValueError):
        Layout((), (0.0, 1.0), (0.0, 0.0))
    with pytest.raises(ValueError):
        Layout((0.0,), (0.0,), (0.0, 0.0))
    with pytest.raises(ValueError):
        ratliff_rosenthal(layout, [Point(1.0, 2.0)])  # not on an aisle


# -- several blocks ---------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 12))
def test_heuristic_within_gap_of_held_karp(seed, size):
    layout, picks = multi_block(random.Random(seed), size)
    exact = held_karp(layout, picks)
    found = heuristic_route(layout, picks, time_budget_ms=60_000, max_kicks=50)
    assert_feasible(layout, picks, found)
    assert not found.optimal
    assert found.length <= exact.length * (1 + GAP_VS_EXACT) + TOL
    assert exact.length <= s_shape(layout, picks).length + TOL


@pytest.mark.parametrize("size", [20, 35, 60])
def test_heuristic_within_gap_of_long_runs(size):
    layout, picks = multi_block(random.Random(size), size)
    found = heuristic_route(layout, picks, time_budget_ms=60_000, max_kicks=150)
    assert_feasible(layout, picks, found)
    long_runs = [
        heuristic_route(layout, picks, time_budget_ms=60_000, max_kicks=800, seed=seed).length
        for seed in (1, 2)
    ]
    assert found.length <= min(long_runs) * (1 + GAP_VS_LONG_RUNS) + TOL
    for baseline in (s_shape(layout, picks), in_sequence(layout, picks)):
        assert_feasible(layout, picks, baseline)
        assert found.length <= baseline.length + TOL


def test_optimal_route_dispatch():
    rng = random.Random(9)
    single = Layout((0.0, 3.0, 6.0), (0.0, 30.0), (0.0, 0.0))
    many = [Point(rng.choice(single.aisles), float(rng.randint(0, 30))) for _ in range(60)]
    route = optimal_route(single, many)
    assert (route.method, route.optimal) == ("ratliff_rosenthal", True)
    assert_feasible(single, many, route)
    layout, picks = multi_block(rng, 12)
    assert optimal_route(layout, picks).method == "held_karp"
    layout, picks = multi_block(rng, 30)
    route = optimal_route(layout, picks, time_budget_ms=50)
    assert (route.method, route.optimal) == ("local_search", False)
    assert_feasible(layout, picks, route)
    assert optimal_route(layout, []).path == (layout.depot,)
