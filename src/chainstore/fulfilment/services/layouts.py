"""A site's walking layout and the pick route through its bins (reads only, no writes).

The layout comes from the site's WarehouseLayout when one is set (its aisles defaulting to
the distinct x of the storage bins), else it is derived from the bins: an aisle at each
distinct bin x, a front cross-aisle 1 m before the first rack and a back one 1 m past the
last, the depot at the front of the first aisle. A bin is picked from the nearest aisle at
its own y. Callers check permissions; these functions only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from chainstore.fulfilment.engine.routing import (
    Layout,
    Point,
    in_sequence,
    optimal_route,
    s_shape,
    snap,
)
from chainstore.sites.models import Location, LocationKind, Site, WarehouseLayout

Number = Decimal | float | int | str  # a coordinate as stored (JSON strings) or entered
MARGIN_M = Decimal(1)  # derived cross-aisles lie this far beyond the outermost racks
UNPLACED = "+unplaced"  # method suffix when some locations have no coordinates


@dataclass(frozen=True)
class RoutePlan:
    """`order` lists indices into the locations given, in visiting order; every index
    appears once (repeats of a location right after its first visit, locations without
    coordinates last, by code). Lengths in metres; `path` is the walk [[x, y], ...] from the
    depot back to it, empty when nothing could be placed."""

    order: list[int]
    length_m: float
    sshape_m: float
    sequence_m: float
    method: str
    path: list[list[float]] = field(default_factory=list)
    optimal: bool = False
    unplaced: int = 0

    @property
    def saving_vs_sshape(self) -> float | None:
        """The share of the S-shape walk saved (0.25 = a quarter shorter), None if no walk."""
        return 1 - self.length_m / self.sshape_m if self.sshape_m else None


def bin_positions(site: Site) -> list[tuple[float, float]]:
    """The distinct (x, y) of the site's active storage bins."""
    rows = Location.objects.filter(
        site=site,
        kind=LocationKind.STORAGE,
        is_active=True,
        x__isnull=False,
        y__isnull=False,
    ).values_list("x", "y")
    return sorted(
        {
            (float(x), float(y))
            for x, y in rows.order_by().distinct()
            if x is not None and y is not None
        }
    )


def site_layout(site: Site) -> Layout | None:
    """The layout to route in: the stored one, else the one derived from the bins; None when
    the site has neither aisles nor storage bins with coordinates."""
    stored = WarehouseLayout.objects.filter(site=site).first()
    if stored is not None and len(stored.cross_aisles) >= 2:
        return build_layout(
            site,
            cross_aisles=stored.cross_aisles,
            aisles=stored.aisles,
            depot=(stored.depot_x, stored.depot_y),
        )
    return derived_layout(site, aisles=stored.aisles if stored is not None else ())


def derived_layout(site: Site, *, aisles: Sequence[Number] = ()) -> Layout | None:
    """The layout the bins imply (see the module docstring), ignoring any stored one."""
    positions = bin_positions(site)
    xs = sorted(float(x) for x in aisles) or sorted({x for x, _y in positions})
    if not xs:
        return None
    ys = [Decimal(str(y)) for _x, y in positions] or [Decimal(0)]
    front, back = float(min(ys) - MARGIN_M), float(max(ys) + MARGIN_M)
    return Layout(tuple(xs), (front, back), (xs[0], front))


def build_layout(
    site: Site,
    *,
    cross_aisles: Sequence[Number],
    aisles: Sequence[Number],
    depot: tuple[Number, Number],
) -> Layout | None:
    """A layout from given values (stored, or proposed in a form before saving); empty
    aisles mean an aisle at each distinct x of the site's storage bins. None when that
    leaves no aisle. The values must already be valid (see sites.services.set_layout)."""
    xs = [float(x) for x in aisles] or sorted({x for x, _y in bin_positions(site)})
    if not xs:
        return None
    return Layout(
        tuple(xs), tuple(float(y) for y in cross_aisles), (float(depot[0]), float(depot[1]))
    )


def pick_point(layout: Layout, location: Location) -> Point | None:
    """Where a picker stands for the bin, None without coordinates."""
    if location.x is None or location.y is None:
        return None
    return snap(layout, float(location.x), float(location.y))


def plan_route(
    site: Site, locations: Sequence[Location], *, time_budget_ms: int = 300
) -> RoutePlan:
    """The shortest walk from the depot past every location and back, with the S-shape and
    the in-sequence (as given) walks for comparison."""
    layout = site_layout(site)
    first: dict[object, int] = {}  # location key -> index of its first occurrence
    repeats: dict[int, list[int]] = {}
    for i, location in enumerate(locations):
        key = location.pk if location.pk is not None else id(location)
        if key in first:
            repeats[first[key]].append(i)
        else:
            first[key] = i
            repeats[i] = []
    placed: list[int] = []
    points: list[Point] = []
    for i in first.values():
        point = pick_point(layout, locations[i]) if layout is not None else None
        if point is not None:
            placed.append(i)
            points.append(point)
    routed = set(placed)
    unplaced = sorted(
        (i for i in first.values() if i not in routed), key=lambda i: (locations[i].code, i)
    )
    suffix = UNPLACED if unplaced else ""
    if layout is None or not points:
        order = [j for i in unplaced for j in (i, *repeats[i])]
        return RoutePlan(order, 0.0, 0.0, 0.0, "none" + suffix, unplaced=len(unplaced))
    best = optimal_route(layout, points, time_budget_ms=time_budget_ms)
    visits = [placed[k] for k in best.order] + unplaced
    return RoutePlan(
        order=[j for i in visits for j in (i, *repeats[i])],
        length_m=round(best.length, 2),
        sshape_m=round(s_shape(layout, points).length, 2),
        sequence_m=round(in_sequence(layout, points).length, 2),
        method=best.method + suffix,
        path=[[round(x, 3), round(y, 3)] for x, y in best.path],
        optimal=best.optimal and not unplaced,
        unplaced=len(unplaced),
    )
