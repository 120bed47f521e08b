"""`{% load fulfilment_map %}{% warehouse_map site pick_list %}`: the site's walking layout as
an inline SVG (aisles, cross-aisles, bins, depot) with a pick list's route, its direction and
the numbered stops in visit order; `{% warehouse_map site layout=proposed %}` previews an
unsaved layout. Coordinates are metres; the SVG's y axis is flipped so the
front cross-aisle is at the bottom. Numbers are formatted here (plain digits, no locale)."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from django import template

from chainstore.fulfilment.engine.routing import Layout
from chainstore.fulfilment.models import PickList, PickTaskStatus
from chainstore.fulfilment.services.layouts import bin_positions, pick_point, site_layout
from chainstore.sites.models import Site

register = template.Library()

PAD_M = 2.0  # space around the layout
BIN_M = 0.5  # a bin's square


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


@register.inclusion_tag("fulfilment/_map.html")
def warehouse_map(
    site: Site, pick_list: PickList | None = None, layout: Layout | None = None
) -> dict[str, Any]:
    """Everything the map template draws, as ready-made SVG numbers and labels. `layout`
    previews a proposed layout instead of the site's own (the layout form)."""
    layout = layout if layout is not None else site_layout(site)
    if layout is None:
        return {"site": site, "empty": True}
    bins = bin_positions(site)
    xs = [*layout.aisles, layout.depot[0], *(x for x, _y in bins)]
    left, right = min(xs) - PAD_M, max(xs) + PAD_M
    bottom, top = layout.front - PAD_M, layout.back + PAD_M
    unit = max(right - left, top - bottom) / 60  # strokes and labels scale with the map
    low_x, high_x = min(*layout.aisles, layout.depot[0]), max(*layout.aisles, layout.depot[0])
    context: dict[str, Any] = {
        "site": site,
        "empty": False,
        "view_box": " ".join(_n(v) for v in (left, -top, right - left, top - bottom)),
        "unit": _n(unit),
        "stroke": _n(unit * 0.25),
        "aisles": [{"x": _n(x), "y1": _n(-layout.front), "y2": _n(-layout.back)}
                   for x in layout.aisles],
        "cross_aisles": [{"y": _n(-y), "x1": _n(low_x), "x2": _n(high_x)}
                         for y in layout.cross_aisles],
        "bins": [{"x": _n(x - BIN_M / 2), "y": _n(-y - BIN_M / 2)} for x, y in bins],
        "bin_size": _n(BIN_M),
        "depot": {"x": _n(layout.depot[0] - unit), "y": _n(-layout.depot[1] - unit),
                  "size": _n(2 * unit)},
        "pick_list": pick_list,
    }  # fmt: skip
    if pick_list is not None:
        context.update(_route(pick_list, unit))
        context["stops"] = _stops(layout, pick_list, unit)
    return context


def _route(pick_list: PickList, unit: float) -> dict[str, Any]:
    path = [(float(x), float(y)) for x, y in pick_list.route_path or []]
    arrows = []
    for (x0, y0), (x1, y1) in pairwise(path):
        length = abs(x1 - x0) + abs(y1 - y0)
        if length >= 4 * unit:
            angle = math.degrees(math.atan2(-(y1 - y0), x1 - x0))
            # 40 % along: a stretch walked both ways gets two arrows side by side
            mid = (x0 + 0.4 * (x1 - x0), -(y0 + 0.4 * (y1 - y0)))
            arrows.append(f"translate({_n(mid[0])} {_n(mid[1])}) rotate({_n(angle)})")
    route, sshape = pick_list.route_length_m, pick_list.sshape_length_m
    saved = f"{(1 - route / sshape) * 100:.1f}%" if route is not None and sshape else ""
    sequence = pick_list.sequence_length_m
    return {
        "route_points": " ".join(f"{_n(x)},{_n(-y)}" for x, y in path),
        "arrows": arrows,
        "arrow": f"M {_n(-unit)} {_n(-0.7 * unit)} L {_n(unit)} 0 L {_n(-unit)} {_n(0.7 * unit)} z",
        "route_m": _n(route) if route is not None else "",
        "sshape_m": _n(sshape) if sshape is not None else "",
        "sequence_m": _n(sequence) if sequence is not None else "",
        "saved": saved,
    }


def _stops(layout: Any, pick_list: PickList, unit: float) -> list[dict[str, Any]]:
    """One marker per place, numbered by visit (tasks by sequence); several tasks at one bin
    share a marker that lists all their numbers."""
    tasks = (
        pick_list.tasks.exclude(status=PickTaskStatus.CANCELLED)
        .select_related("location", "sku")
        .order_by("sequence", "id")
    )
    places: dict[tuple[float, float], dict[str, Any]] = {}
    for number, task in enumerate(tasks, start=1):
        point = pick_point(layout, task.location)
        if point is None:
            continue
        place = places.setdefault(
            (point.x, point.y),
            {"x": _n(point.x), "y": _n(-point.y), "numbers": [], "lines": [], "done": True},
        )
        place["numbers"].append(number)
        place["lines"].append(f"{number}. {task.location.code} · {task.sku.code} {task.sku.name}")
        place["done"] = place["done"] and task.status != PickTaskStatus.OPEN
    out = []
    for place in places.values():
        numbers = place["numbers"]
        if len(numbers) == 1:
            label = str(numbers[0])
        elif numbers == list(range(numbers[0], numbers[-1] + 1)):
            label = f"{numbers[0]}-{numbers[-1]}"
        else:
            label = ",".join(map(str, numbers))
        out.append({**place, "label": label, "title": "\n".join(place["lines"]),
                    "r": _n(unit * 1.3), "font": _n(unit * 1.5)})  # fmt: skip
    return out
