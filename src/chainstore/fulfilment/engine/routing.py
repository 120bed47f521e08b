"""Pick routes through a warehouse of parallel aisles and cross-aisles (no Django).

The picker walks only along aisles (vertical, each at an x, spanning the front cross-aisle to
the back one and crossing every cross-aisle between) and along cross-aisles (horizontal, each
at a y, spanning all aisles). A route starts and ends at the depot, which lies on a cross-aisle
(anywhere along it, also beside the outermost aisles) or on an aisle. Metres throughout.

- Single block (two cross-aisles): `ratliff_rosenthal` is exact for any number of picks: the
  dynamic programme of Ratliff & Rosenthal (1983) over equivalence classes of partial tour
  subgraphs, then an Euler tour of the optimal subgraph gives the walking path and the pick
  order (order of first visits).
- Several blocks: `held_karp` (exact, small lists) or `heuristic_route` (nearest neighbour and
  S-shape starts, 2-opt and Or-opt on the walk-distance matrix, iterated with random kicks
  within a time budget). `optimal_route` picks the method.
- Baselines to report the saving against: `s_shape` and `in_sequence`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

EPS = 1e-9
HELD_KARP_MAX = 13  # distinct pick points; 2^13 x 13 states
EXACT_MULTI_BLOCK_MAX = 12  # optimal_route uses Held-Karp up to this many distinct points
STALL_KICKS = 400  # the heuristic stops after this many kicks without a better tour

Coord = tuple[float, float]


@dataclass(frozen=True)
class Point:
    """A pick point: on an aisle (x is one of the layout's aisles), y within the span."""

    x: float
    y: float

    @property
    def coord(self) -> Coord:
        return (self.x, self.y)


@dataclass(frozen=True)
class Layout:
    """Aisles (sorted x), cross-aisles (sorted y: two is one block, more is several blocks)
    and the depot. A depot off the walkable network is moved onto the nearest cross-aisle."""

    aisles: tuple[float, ...]
    cross_aisles: tuple[float, ...]
    depot: tuple[float, float]

    def __post_init__(self) -> None:
        aisles = tuple(sorted(float(x) for x in self.aisles))
        cross = tuple(sorted(float(y) for y in self.cross_aisles))
        if not aisles or len(set(aisles)) != len(aisles):
            raise ValueError("a layout needs at least one aisle, each at a different x")
        if len(cross) < 2 or len(set(cross)) != len(cross):
            raise ValueError("a layout needs at least two cross-aisles at different y")
        x, y = float(self.depot[0]), float(self.depot[1])
        on_aisle = x in aisles and cross[0] <= y <= cross[-1]
        if y not in cross and not on_aisle:
            y = min(cross, key=lambda c: (abs(c - y), c))
        object.__setattr__(self, "aisles", aisles)
        object.__setattr__(self, "cross_aisles", cross)
        object.__setattr__(self, "depot", (x, y))

    @property
    def front(self) -> float:
        return self.cross_aisles[0]

    @property
    def back(self) -> float:
        return self.cross_aisles[-1]

    @property
    def single_block(self) -> bool:
        return len(self.cross_aisles) == 2

    @property
    def depot_point(self) -> Point:
        return Point(*self.depot)

    def on_aisle(self, x: float) -> bool:
        return x in self.aisles


@dataclass(frozen=True)
class Route:
    """A closed walk from the depot: `order` indexes the picks as given (first visits),
    `path` is the polyline walked (depot -> ... -> depot), `length` its length in metres."""

    order: tuple[int, ...]
    length: float
    path: tuple[Coord, ...]
    method: str
    optimal: bool


def snap(layout: Layout, x: float, y: float) -> Point:
    """A bin's pick point: the nearest aisle (the lower x on a tie), y kept within the span."""
    aisle = min(layout.aisles, key=lambda a: (abs(a - float(x)), a))
    return Point(aisle, min(max(float(y), layout.front), layout.back))


# -- walking between two points ----------------------------------------------------------
def walk_distance(layout: Layout, a: Point, b: Point) -> float:
    """Shortest walk: along one aisle, or out via the best cross-aisle and in along the other
    aisle (using more than one cross-aisle never helps). A point off the aisles (the depot)
    lies on its cross-aisle."""
    return _length(walk_path(layout, a, b))


def walk_path(layout: Layout, a: Point, b: Point) -> list[Coord]:
    """The corners of a shortest walk from a to b, both ends included."""
    if a == b:
        return [a.coord]
    a_aisle, b_aisle = layout.on_aisle(a.x), layout.on_aisle(b.x)
    if a_aisle and b_aisle:
        if a.x == b.x:
            return [a.coord, b.coord]
        c = min(layout.cross_aisles, key=lambda c: abs(a.y - c) + abs(c - b.y))
        return _dedupe([a.coord, (a.x, c), (b.x, c), b.coord])
    if not a_aisle and not b_aisle:  # both on cross-aisles, off the aisles
        if a.y == b.y:
            return [a.coord, b.coord]
        x = min(layout.aisles, key=lambda x: abs(a.x - x) + abs(x - b.x))
        return _dedupe([a.coord, (x, a.y), (x, b.y), b.coord])
    if a_aisle:  # b on its cross-aisle: up a's aisle to it, then along it
        return _dedupe([a.coord, (a.x, b.y), b.coord])
    return _dedupe([a.coord, (b.x, a.y), b.coord])


def distance_matrix(layout: Layout, points: Sequence[Point]) -> np.ndarray:
    """Walk distances between all points (vectorised for points on aisles)."""
    xs = np.array([p.x for p in points], dtype=float)
    ys = np.array([p.y for p in points], dtype=float)
    cross = np.array(layout.cross_aisles, dtype=float)
    via = np.min(
        np.abs(ys[:, None, None] - cross[None, None, :])
        + np.abs(cross[None, None, :] - ys[None, :, None]),
        axis=2,
    )
    matrix = np.where(
        xs[:, None] == xs[None, :],
        np.abs(ys[:, None] - ys[None, :]),
        np.abs(xs[:, None] - xs[None, :]) + via,
    )
    for i, p in enumerate(points):
        if not layout.on_aisle(p.x):
            for j, q in enumerate(points):
                matrix[i, j] = matrix[j, i] = walk_distance(layout, p, q)
    return matrix


def _dedupe(coords: list[Coord]) -> list[Coord]:
    out = [coords[0]]
    for c in coords[1:]:
        if c != out[-1]:
            out.append(c)
    return out


def _length(path: Sequence[Coord]) -> float:
    return sum(abs(p[0] - q[0]) + abs(p[1] - q[1]) for p, q in itertools.pairwise(path))


def _simplify(path: list[Coord]) -> tuple[Coord, ...]:
    """Drop repeated points and corners that continue straight on (turn-backs stay)."""
    out: list[Coord] = []
    for c in _dedupe(path):
        if len(out) >= 2:
            (x0, y0), (x1, y1) = out[-2], out[-1]
            same_line = (x0 == x1 == c[0]) or (y0 == y1 == c[1])
            onward = (x1 - x0) * (c[0] - x1) + (y1 - y0) * (c[1] - y1) > 0
            if same_line and onward:
                out[-1] = c
                continue
        out.append(c)
    return tuple(out)


def _check_picks(layout: Layout, picks: Sequence[Point]) -> None:
    for p in picks:
        if not layout.on_aisle(p.x) or not layout.front <= p.y <= layout.back:
            raise ValueError(f"pick point {p} is not on an aisle of the layout (use snap)")


def _empty(layout: Layout, method: str) -> Route:
    return Route((), 0.0, (layout.depot,), method, True)


# -- routes that follow a visiting order ---------------------------------------------------
def route_from_order(
    layout: Layout,
    picks: Sequence[Point],
    order: Sequence[int],
    method: str,
    optimal: bool,
    *,
    keep_order: bool = False,
) -> Route:
    """Walk to the picks in `order` the shortest way between consecutive stops. The order
    reported is the order the walk first passes them (a picker takes what they pass), the
    same length; `keep_order` reports `order` itself."""
    stops = [layout.depot_point, *(picks[i] for i in order), layout.depot_point]
    path: list[Coord] = [layout.depot]
    length = 0.0
    for a, b in itertools.pairwise(stops):
        leg = walk_path(layout, a, b)
        length += _length(leg)
        path.extend(leg[1:])
    visits = tuple(order) if keep_order else _collect(path, picks)
    return Route(visits, length, _simplify(path), method, optimal)


def in_sequence(layout: Layout, picks: Sequence[Point]) -> Route:
    """The baseline of walking the picks in the order given (order-line sequence)."""
    _check_picks(layout, picks)
    order = range(len(picks))
    return route_from_order(layout, picks, order, "in_sequence", False, keep_order=True)


def _collect(path: Sequence[Coord], picks: Sequence[Point]) -> tuple[int, ...]:
    """The picks in the order a walk along `path` first passes them."""
    remaining = {i: p for i, p in enumerate(picks)}
    order: list[int] = []

    def take(hits: list[tuple[float, int]]) -> None:
        for _distance, i in sorted(hits):
            order.append(i)
            del remaining[i]

    take([(0.0, i) for i, p in remaining.items() if p.coord == path[0]])
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        hits = [
            (abs(p.x - x0) + abs(p.y - y0), i)
            for i, p in remaining.items()
            if min(x0, x1) <= p.x <= max(x0, x1) and min(y0, y1) <= p.y <= max(y0, y1)
        ]
        take(hits)
    if remaining:
        raise AssertionError("the path misses some picks")
    return tuple(order)


# -- S-shape baseline ------------------------------------------------------------------------
def s_shape(layout: Layout, picks: Sequence[Point]) -> Route:
    """The S-shape (traversal) baseline: every aisle with picks is walked end to end, aisle
    after aisle; with an odd count the last aisle is entered and left from the same side.
    Several blocks: up the leftmost pick aisle to the farthest block with picks, then block
    by block towards the front, S-shaped within each block (the nearer end first)."""
    _check_picks(layout, picks)
    if not picks:
        return _empty(layout, "s_shape")
    if layout.single_block:
        mirror = _mirrored(layout)
        work = [_flip(p, mirror) for p in picks]
        lay = _flip_layout(layout) if mirror else layout
        paths = [_s_single(lay, work, reverse) for reverse in (False, True)]
        path = min(paths, key=_length)
        order = _collect(path, work)
        path = [(x, -y) if mirror else (x, y) for x, y in path]
    else:
        path = _s_blocks(layout, picks)
        order = _collect(path, picks)
    return Route(order, _length(path), _simplify(path), "s_shape", False)


def _s_single(layout: Layout, picks: Sequence[Point], reverse: bool) -> list[Coord]:
    front, back = layout.front, layout.back
    top: dict[float, float] = {}
    for p in picks:
        top[p.x] = max(top.get(p.x, front), p.y)
    xs = sorted(top, reverse=reverse)
    path: list[Coord] = [layout.depot]

    def go(c: Coord) -> None:
        path.extend(walk_path(layout, Point(*path[-1]), Point(*c))[1:])

    for k, x in enumerate(xs):
        if k == len(xs) - 1 and len(xs) % 2:  # odd count: a return in the last aisle
            go((x, front))
            go((x, top[x]))
            go((x, front))
        elif k % 2 == 0:
            go((x, front))
            go((x, back))
        else:
            go((x, back))
            go((x, front))
    go(layout.depot)
    return path


def _s_blocks(layout: Layout, picks: Sequence[Point]) -> list[Coord]:
    cross = layout.cross_aisles
    blocks: dict[int, set[float]] = defaultdict(set)
    for p in picks:
        block = min(max(i for i, c in enumerate(cross[:-1]) if c <= p.y), len(cross) - 2)
        blocks[block].add(p.x)
    path: list[Coord] = [layout.depot]

    def go(c: Coord) -> None:
        path.extend(walk_path(layout, Point(*path[-1]), Point(*c))[1:])

    first_x = min(p.x for p in picks)
    far = max(blocks)
    go((first_x, layout.front))
    go((first_x, cross[far + 1]))
    for xs_in_block in blocks.values():
        xs_in_block.discard(first_x)  # all of that aisle is passed on the way up
    for block in range(far, -1, -1):
        upper, lower = cross[block + 1], cross[block]
        xs = sorted(blocks.get(block, ()))
        x_now = path[-1][0]
        if xs and abs(xs[-1] - x_now) < abs(xs[0] - x_now):
            xs.reverse()
        at_upper = True
        for x in xs:
            go((x, upper if at_upper else lower))
            go((x, lower if at_upper else upper))
            at_upper = not at_upper
        if at_upper:  # leave the block towards the front
            go((path[-1][0], lower))
    go(layout.depot)
    return path


# -- Held-Karp --------------------------------------------------------------------------------
def _distinct(picks: Sequence[Point]) -> tuple[list[Point], list[list[int]]]:
    index: dict[Point, int] = {}
    groups: list[list[int]] = []
    for i, p in enumerate(picks):
        if p not in index:
            index[p] = len(groups)
            groups.append([])
        groups[index[p]].append(i)
    return list(index), groups


def _expand(tour: Sequence[int], groups: list[list[int]]) -> list[int]:
    """Node order (1-based, 0 = depot) -> pick indices, repeated points together."""
    return [i for node in tour if node for i in groups[node - 1]]


def held_karp(layout: Layout, picks: Sequence[Point]) -> Route:
    """Exact shortest tour by dynamic programming over subsets of the distinct pick points
    (Held & Karp 1962) on the walk-distance matrix; any layout, up to 13 distinct points."""
    _check_picks(layout, picks)
    points, groups = _distinct(picks)
    n = len(points)
    if n > HELD_KARP_MAX:
        raise ValueError(f"held_karp handles up to {HELD_KARP_MAX} distinct points")
    if n == 0:
        return _empty(layout, "held_karp")
    dist = distance_matrix(layout, [layout.depot_point, *points])
    inner = dist[1:, 1:]
    full = (1 << n) - 1
    best = np.full((1 << n, n), np.inf)
    parent = np.full((1 << n, n), -1, dtype=np.int8)
    for j in range(n):
        best[1 << j, j] = dist[0, j + 1]
    masks = np.arange(1 << n)
    sizes = np.array([bin(m).count("1") for m in range(1 << n)])
    for size in range(2, n + 1):
        layer = masks[sizes == size]
        for j in range(n):
            mine = layer[(layer >> j) & 1 == 1]
            if not len(mine):
                continue
            came = best[mine ^ (1 << j)] + inner[:, j][None, :]
            k = np.argmin(came, axis=1)
            best[mine, j] = came[np.arange(len(mine)), k]
            parent[mine, j] = k
    closing = best[full] + dist[1:, 0]
    last = int(np.argmin(closing))
    tour: list[int] = []
    mask = full
    while last >= 0:
        tour.append(last + 1)
        mask, last = mask ^ (1 << last), int(parent[mask, last])
    tour.reverse()
    return route_from_order(layout, picks, _expand(tour, groups), "held_karp", True)


# -- heuristic for several blocks ------------------------------------------------------------
def heuristic_route(
    layout: Layout,
    picks: Sequence[Point],
    *,
    time_budget_ms: float = 300,
    seed: int = 0,
    max_kicks: int | None = None,
) -> Route:
    """Nearest-neighbour and S-shape starts improved by 2-opt and Or-opt (best move over the
    whole walk-distance matrix, vectorised), then iterated local search (double-bridge kicks)
    until the time budget is spent, `max_kicks` kicks were made (for reproducible runs) or
    STALL_KICKS kicks in a row found nothing better; the first descent always completes."""
    _check_picks(layout, picks)
    points, groups = _distinct(picks)
    if not points:
        return _empty(layout, "local_search")
    deadline = time.perf_counter() + time_budget_ms / 1000
    dist = distance_matrix(layout, [layout.depot_point, *points])
    rng = np.random.default_rng(seed)
    starts = [_nearest_neighbour(dist), _s_start(layout, points)]
    tours = [_descend(t, dist) for t in starts]
    best = min(tours, key=lambda t: _tour_length(t, dist))
    best_len = _tour_length(best, dist)
    current, current_len = best, best_len
    kicks = stalled = 0
    while len(points) >= 8 and time.perf_counter() < deadline and stalled < STALL_KICKS:
        if max_kicks is not None and kicks >= max_kicks:
            break
        kicks += 1
        stalled += 1
        candidate = _descend(_double_bridge(current, rng), dist)
        length = _tour_length(candidate, dist)
        if length < current_len - EPS or (length < current_len + EPS and rng.random() < 0.5):
            current, current_len = candidate, length
        if current_len < best_len - EPS:
            best, best_len, stalled = current, current_len, 0
    order = _expand([int(v) for v in best], groups)
    return route_from_order(layout, picks, order, "local_search", False)


def _tour_length(tour: np.ndarray, dist: np.ndarray) -> float:
    return float(dist[tour, np.roll(tour, -1)].sum())


def _nearest_neighbour(dist: np.ndarray) -> np.ndarray:
    n = len(dist)
    seen = np.zeros(n, dtype=bool)
    tour = [0]
    seen[0] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, dist[tour[-1]])
        nxt = int(np.argmin(row))
        tour.append(nxt)
        seen[nxt] = True
    return np.array(tour)


def _s_start(layout: Layout, points: Sequence[Point]) -> np.ndarray:
    return np.array([0, *(i + 1 for i in s_shape(layout, points).order)])


def _descend(tour: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Apply the best improving 2-opt or Or-opt move until none improves."""
    tour = tour.copy()
    while True:
        gain2, move2 = _best_two_opt(tour, dist)
        gain3, move3 = _best_or_opt(tour, dist)
        if min(gain2, gain3) >= -EPS:
            return tour
        if gain2 <= gain3:
            i, j = move2
            tour[i + 1 : j + 1] = tour[i + 1 : j + 1][::-1].copy()
        else:
            tour = _apply_or_opt(tour, *move3)


def _best_two_opt(tour: np.ndarray, dist: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Best reversal of tour[i+1..j] (the depot stays first)."""
    n = len(tour)
    if n < 4:
        return 0.0, (0, 0)
    a, b = tour, np.roll(tour, -1)
    ab = dist[a, b]
    delta = dist[a[:, None], a[None, :]] + dist[b[:, None], b[None, :]] - ab[:, None] - ab[None]
    delta[np.tril_indices(n, 1)] = np.inf
    k = int(np.argmin(delta))
    return float(delta.flat[k]), (k // n, k % n)


def _best_or_opt(tour: np.ndarray, dist: np.ndarray) -> tuple[float, tuple[int, int, int, bool]]:
    """Best move of a segment of 1-3 stops to another edge, either way round."""
    n = len(tour)
    best: tuple[float, tuple[int, int, int, bool]] = (0.0, (0, 0, 0, False))
    nxt = np.roll(tour, -1)
    edge = dist[tour, nxt]
    for size in (1, 2, 3):
        if n - 1 < size + 2:
            break
        starts = np.arange(1, n - size + 1)
        ends = starts + size - 1
        s, e = tour[starts], tour[ends]
        p, q = tour[starts - 1], tour[(ends + 1) % n]
        removed = dist[p, s] + dist[e, q] - dist[p, q]
        c, d = tour, nxt  # insert between c and d
        forward = dist[c[None, :], s[:, None]] + dist[e[:, None], d[None, :]] - edge[None, :]
        backward = dist[c[None, :], e[:, None]] + dist[s[:, None], d[None, :]] - edge[None, :]
        cols = np.arange(n)[None, :]
        touching = (cols >= (starts - 1)[:, None]) & (cols <= ends[:, None])
        for reverse, insert in ((False, forward), (True, backward)):
            delta = np.where(touching, np.inf, insert - removed[:, None])
            k = int(np.argmin(delta))
            if delta.flat[k] < best[0]:
                row, col = divmod(k, n)
                best = (float(delta.flat[k]), (int(starts[row]), size, col, reverse))
    return best


def _apply_or_opt(tour: np.ndarray, start: int, size: int, after: int, reverse: bool) -> np.ndarray:
    segment = tour[start : start + size]
    if reverse:
        segment = segment[::-1]
    rest = np.concatenate([tour[:start], tour[start + size :]])
    anchor = tour[after]
    at = int(np.nonzero(rest == anchor)[0][0]) + 1
    return np.concatenate([rest[:at], segment, rest[at:]])


def _double_bridge(tour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(tour)
    i, j, k = sorted(rng.choice(np.arange(2, n), size=3, replace=False))
    return np.concatenate([tour[:i], tour[j:k], tour[i:j], tour[k:]])


# -- Ratliff-Rosenthal -------------------------------------------------------------------------
# A partial tour subgraph (everything left of an aisle, with or without the aisle's own
# vertical edges) matters to the rest only through its equivalence class: the degree of the
# aisle's back and front end vertices (0, odd, even > 0) and its components: 0 (no edges
# yet), 1 or 2 (every component must touch an end vertex). The class (0, 0, 1) is a closed
# tour that nothing may touch any more. Odd ends must share a component (handshake lemma),
# so the reachable classes are the seven of the paper.
NONE, ODD, EVEN = 0, 1, 2
CLOSED = (0, 0, 1)
State = tuple[int, int, int]
HORIZONTALS = ((0, 0), (1, 1), (2, 0), (0, 2), (2, 2))  # copies of the back, front edge


@dataclass(frozen=True)
class _Vertical:
    """An aisle configuration: degree added to the back and front ends, whether it joins
    them, its length and the stretches it walks (y from, y to, copies)."""

    name: str
    back: int
    front: int
    joins: bool
    cost: float
    stretches: tuple[tuple[float, float, int], ...]
    closes: bool = False


@dataclass(frozen=True)
class _Column:
    x: float
    ys: tuple[float, ...]  # distinct pick points in the aisle (incl. the depot if in it)
    real: bool  # an aisle; else only the depot's place on the front cross-aisle
    depot: bool


def _degree(before: int, added: int) -> int:
    if before == NONE and added == 0:
        return NONE
    return ODD if ((before == ODD) + added) % 2 else EVEN


def _labels(state: State) -> tuple[int | None, int | None]:
    back, front, comps = state
    return (0 if back else None), ((0 if comps == 1 else 1) if front else None)


def _after_vertical(state: State, v: _Vertical) -> State | None:
    if v.closes:
        return CLOSED if state == (NONE, NONE, 0) else None
    if state == CLOSED:
        return state if v.back == v.front == 0 else None
    back, front = _labels(state)
    if v.back and back is None:
        back = 2
    if v.front and front is None:
        front = 3
    if v.joins:
        front = back
    comps = len({label for label in (back, front) if label is not None})
    return (_degree(state[0], v.back), _degree(state[1], v.front), comps)


def _after_horizontal(
    state: State, back_copies: int, front_copies: int, depot: bool
) -> State | None:
    if depot and state[1] == NONE and front_copies == 0:
        return None  # the depot is never reached
    if state == CLOSED:
        return state if back_copies == front_copies == 0 else None
    if ((state[0] == ODD) + back_copies) % 2 or ((state[1] == ODD) + front_copies) % 2:
        return None  # a vertex left behind would keep an odd degree
    back, front = _labels(state)
    old = {label for label in (back, front) if label is not None}
    new_back = (2 if back is None else back) if back_copies else None
    new_front = (3 if front is None else front) if front_copies else None
    carried = {label for label in (new_back, new_front) if label is not None}
    if old - carried:  # a component left behind: fine only if it is the whole tour
        return CLOSED if not carried and len(old) == 1 else None
    return (_degree(NONE, back_copies), _degree(NONE, front_copies), len(carried))


def _final(state: State, column: _Column) -> bool:
    back, front, comps = state
    return back != ODD and front != ODD and comps == 1 and not (column.depot and front == NONE)


def _verticals(column: _Column, front: float, back: float) -> list[_Vertical]:
    if not column.real:
        return [_Vertical("none", 0, 0, False, 0.0, ())]
    span = back - front
    ys = column.ys
    whole = ((front, back),)
    out = [
        _Vertical("traverse", 1, 1, True, span, tuple((a, b, 1) for a, b in whole)),
        _Vertical("double", 2, 2, True, 2 * span, tuple((a, b, 2) for a, b in whole)),
    ]
    if not ys:
        return [_Vertical("none", 0, 0, False, 0.0, ()), *out]
    low, high = ys[0], ys[-1]
    out.append(_Vertical("from_back", 2, 0, False, 2 * (back - low), ((low, back, 2),)))
    out.append(_Vertical("from_front", 0, 2, False, 2 * (high - front), ((front, high, 2),)))
    # Up and down between the outer points, touching neither end: a whole tour by itself
    # when the depot is inside the aisle with every pick.
    out.append(_Vertical("inside", 0, 0, False, 2 * (high - low), ((low, high, 2),), True))
    if len(ys) >= 2:
        gaps = [b - a for a, b in itertools.pairwise(ys)]
        k = int(np.argmax(gaps))
        out.append(
            _Vertical(
                "gap",
                2,
                2,
                False,
                2 * (span - gaps[k]),
                ((front, ys[k], 2), (ys[k + 1], back, 2)),
            )
        )
    return out


def ratliff_rosenthal(layout: Layout, picks: Sequence[Point]) -> Route:
    """Exact shortest pick tour in a single-block layout (Ratliff & Rosenthal 1983), in time
    linear in the number of aisles. A depot on the back cross-aisle is handled by mirroring
    the layout; one between aisles or beside them becomes a column with no aisle that the
    front cross-aisle must reach."""
    if not layout.single_block:
        raise ValueError("ratliff_rosenthal needs a single-block layout (two cross-aisles)")
    _check_picks(layout, picks)
    if not picks:
        return _empty(layout, "ratliff_rosenthal")
    mirror = _mirrored(layout)
    lay = _flip_layout(layout) if mirror else layout
    work = [_flip(p, mirror) for p in picks]
    columns = _columns(lay, work)
    cost, plan = _dynamic_programme(lay, columns)
    path = _euler_path(lay, columns, plan)
    order = _collect(path, work)
    path = [(x, -y) if mirror else (x, y) for x, y in path]
    return Route(order, cost, _simplify(path), "ratliff_rosenthal", True)


def _mirrored(layout: Layout) -> bool:
    """A single-block depot off the aisles on the back cross-aisle: solve it upside down."""
    x, y = layout.depot
    return not layout.on_aisle(x) and y == layout.back


def _flip(p: Point, mirror: bool) -> Point:
    return Point(p.x, -p.y) if mirror else p


def _flip_layout(layout: Layout) -> Layout:
    return Layout(
        layout.aisles,
        tuple(-y for y in layout.cross_aisles),
        (layout.depot[0], -layout.depot[1]),
    )


def _columns(layout: Layout, picks: Sequence[Point]) -> list[_Column]:
    ys: dict[float, set[float]] = {x: set() for x in layout.aisles}
    for p in picks:
        ys[p.x].add(p.y)
    dx, dy = layout.depot
    if layout.on_aisle(dx):
        ys[dx].add(dy)
    columns = [_Column(x, tuple(sorted(v)), True, False) for x, v in ys.items()]
    if not layout.on_aisle(dx):
        columns.append(_Column(dx, (), False, True))
    return sorted(columns, key=lambda c: c.x)


Plan = list[tuple[_Vertical, tuple[int, int]]]  # per column: vertical, copies to the next
_T = TypeVar("_T")
_CameBy = dict[State, tuple[State, _T]]  # class -> (class it came from, the step taken)


def _dynamic_programme(layout: Layout, columns: list[_Column]) -> tuple[float, Plan]:
    """Cheapest class-by-class extension, column by column; returns the length and the
    chosen vertical configuration of each column with the cross-aisle copies after it."""
    front, back = layout.front, layout.back
    first, last = layout.aisles[0], layout.aisles[-1]
    layer: dict[State, float] = {(NONE, NONE, 0): 0.0}
    trail: list[tuple[_CameBy[_Vertical], _CameBy[tuple[int, int]]]] = []
    for j, column in enumerate(columns):
        plus: dict[State, float] = {}
        came_v: _CameBy[_Vertical] = {}
        for state, cost in layer.items():
            for v in _verticals(column, front, back):
                nxt = _after_vertical(state, v)
                if nxt is not None and cost + v.cost < plus.get(nxt, math.inf) - EPS:
                    plus[nxt] = cost + v.cost
                    came_v[nxt] = (state, v)
        came_h: _CameBy[tuple[int, int]] = {}
        if j == len(columns) - 1:
            trail.append((came_v, came_h))
            layer = plus
            break
        width = columns[j + 1].x - column.x
        back_ok = first <= column.x and columns[j + 1].x <= last  # the back cross-aisle is there
        layer = {}
        for state, cost in plus.items():
            for copies in HORIZONTALS:
                if copies[0] and not back_ok:
                    continue
                nxt = _after_horizontal(state, *copies, column.depot)
                step = cost + (copies[0] + copies[1]) * width
                if nxt is not None and step < layer.get(nxt, math.inf) - EPS:
                    layer[nxt] = step
                    came_h[nxt] = (state, copies)
        trail.append((came_v, came_h))
    finals = [s for s in layer if _final(s, columns[-1])]
    state = min(finals, key=lambda s: layer[s])
    total = layer[state]
    plan: Plan = []
    for j in range(len(columns) - 1, -1, -1):
        came_v, came_h = trail[j]
        copies = (0, 0)
        if j < len(columns) - 1:  # state is a class of column j+1 before its aisle
            state, copies = came_h[state]
        state, vertical = came_v[state]
        plan.append((vertical, copies))
    plan.reverse()
    return total, plan


def _euler_path(layout: Layout, columns: list[_Column], plan: Plan) -> list[Coord]:
    """Lay the chosen edges out on the floor and walk them all once from the depot."""
    edges: list[tuple[Coord, Coord]] = []
    for j, (column, (vertical, (back_copies, front_copies))) in enumerate(
        zip(columns, plan, strict=True)
    ):
        stops = sorted({layout.front, layout.back, *column.ys})
        for y0, y1, copies in vertical.stretches:
            inside = [y for y in stops if y0 <= y <= y1]
            for a, b in itertools.pairwise(inside):
                edges.extend([((column.x, a), (column.x, b))] * copies)
        if j + 1 < len(columns):
            x1 = columns[j + 1].x
            edges.extend([((column.x, layout.back), (x1, layout.back))] * back_copies)
            edges.extend([((column.x, layout.front), (x1, layout.front))] * front_copies)
    return _euler(layout.depot, [e for e in edges if e[0] != e[1]])


def _euler(start: Coord, edges: list[tuple[Coord, Coord]]) -> list[Coord]:
    """Hierholzer's algorithm on a connected multigraph with all degrees even."""
    if not edges:
        return [start]
    adjacent: dict[Coord, list[tuple[int, Coord]]] = defaultdict(list)
    for k, (a, b) in enumerate(edges):
        adjacent[a].append((k, b))
        adjacent[b].append((k, a))
    used = [False] * len(edges)
    cursor: dict[Coord, int] = defaultdict(int)
    stack, circuit = [start], []
    while stack:
        v = stack[-1]
        links = adjacent[v]
        while cursor[v] < len(links) and used[links[cursor[v]][0]]:
            cursor[v] += 1
        if cursor[v] == len(links):
            circuit.append(stack.pop())
        else:
            k, w = links[cursor[v]]
            used[k] = True
            stack.append(w)
    if not all(used):
        raise AssertionError("the tour subgraph is not connected")
    return circuit[::-1]


# -- dispatch ---------------------------------------------------------------------------------
def optimal_route(layout: Layout, picks: Sequence[Point], *, time_budget_ms: float = 300) -> Route:
    """The best route this module can find: exact for a single block (any size) and for up
    to 12 distinct points in several blocks, the heuristic beyond (optimal=False)."""
    if not picks:
        return _empty(layout, "none")
    if layout.single_block:
        return ratliff_rosenthal(layout, picks)
    if len(set(picks)) <= EXACT_MULTI_BLOCK_MAX:
        return held_karp(layout, picks)
    return heuristic_route(layout, picks, time_budget_ms=time_budget_ms)
