"""A site's walking layout (stored or derived from its bins), the pick route through real
bins, and the warehouse map that draws it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from chainstore.core.testing import make_bin, make_site, make_sku
from chainstore.fulfilment.engine.routing import Layout, optimal_route, snap
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderLine,
    OrderStatus,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    SalesChannel,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.services.layouts import plan_route, site_layout
from chainstore.sites.models import Location
from chainstore.sites.services import BinGrid, create_bin_grid, create_zone, set_layout

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid_site(admin):
    """4 aisles (x = 3, 6, 9, 12) x 10 racks (y = 1.2 .. 12) x 2 levels."""
    site = make_site(admin, "cdc", code="WH1")
    zone = create_zone(site=site, code="A", name="常温区", actor=admin)
    create_bin_grid(
        site=site,
        zone=zone,
        grid=BinGrid(aisle_from=1, aisle_to=4, rack_from=1, rack_to=10, level_from=1, level_to=2),
        actor=admin,
    )
    return site


def bins(site, *codes):
    by_code = {b.code: b for b in Location.objects.filter(site=site, code__in=codes)}
    return [by_code[c] for c in codes]


def test_layout_derived_from_bins(grid_site):
    layout = site_layout(grid_site)
    assert layout == Layout((3.0, 6.0, 9.0, 12.0), (0.2, 13.0), (3.0, 0.2))


def test_stored_layout_wins_and_takes_aisles_from_bins(grid_site, admin):
    set_layout(
        site=grid_site,
        actor=admin,
        cross_aisles=[Decimal("0"), Decimal("7"), Decimal("14")],
        depot_x=Decimal("7.5"),
        depot_y=Decimal("0"),
    )
    assert site_layout(grid_site) == Layout((3.0, 6.0, 9.0, 12.0), (0.0, 7.0, 14.0), (7.5, 0.0))
    set_layout(
        site=grid_site,
        actor=admin,
        cross_aisles=[Decimal("0"), Decimal("14")],
        depot_x=Decimal("0"),
        depot_y=Decimal("0"),
        aisles=[Decimal("4.5"), Decimal("10.5")],
    )
    assert site_layout(grid_site).aisles == (4.5, 10.5)


def test_no_layout_without_bins(admin):
    site = make_site(admin, "cdc")
    assert site_layout(site) is None
    loose = make_bin(admin, site, code="X-1")
    plan = plan_route(site, [loose, loose])
    assert plan.order == [0, 1] and plan.method == "none+unplaced" and plan.path == []
    assert plan.length_m == plan.sshape_m == plan.sequence_m == 0


def test_route_hand_computed(grid_site):
    # depot (3, 0.2); picks (12, 6.0) then (3, 6.0): out and back in aisle 3 (11.6), along
    # the front to aisle 12 and back (18), out and back in it (11.6) = 41.2; the S-shape
    # traverses both aisles: 12.8 + 9 + 12.8 + 9 = 43.6.
    far, near = bins(grid_site, "A-04-05-1", "A-01-05-1")
    plan = plan_route(grid_site, [far, near])
    assert plan.length_m == pytest.approx(41.2)
    assert plan.sshape_m == pytest.approx(43.6)
    assert plan.sequence_m == pytest.approx(41.2)
    assert plan.order == [1, 0]  # the near one first
    assert plan.method == "ratliff_rosenthal" and plan.optimal
    assert plan.path[0] == plan.path[-1] == [3.0, 0.2]
    assert plan.saving_vs_sshape == pytest.approx(1 - 41.2 / 43.6)


def test_route_through_real_bins(grid_site, admin):
    codes = ["A-03-09-2", "A-01-02-1", "A-04-07-1", "A-01-02-2", "A-02-10-1", "A-04-01-2"]
    locations = bins(grid_site, *codes)
    loose = make_bin(admin, grid_site, code="Z-LOOSE")  # no coordinates
    early = make_bin(admin, grid_site, code="B-LOOSE")
    given = [*locations, loose, locations[0], early]
    plan = plan_route(grid_site, given)
    assert sorted(plan.order) == list(range(len(given)))
    assert plan.order[-2:] == [len(given) - 1, len(given) - 3]  # unplaced last, by code
    first = plan.order.index(0)
    assert plan.order[first + 1] == len(given) - 2  # the repeat right after its first visit
    assert plan.method == "ratliff_rosenthal+unplaced" and not plan.optimal
    assert plan.unplaced == 2
    layout = site_layout(grid_site)
    points = [snap(layout, float(b.x), float(b.y)) for b in locations]
    assert plan.length_m == pytest.approx(optimal_route(layout, points).length, abs=0.01)
    assert plan.length_m <= plan.sshape_m and plan.length_m <= plan.sequence_m


def test_route_in_several_blocks(grid_site, admin):
    set_layout(
        site=grid_site,
        actor=admin,
        cross_aisles=[Decimal("0"), Decimal("6.6"), Decimal("13")],
        depot_x=Decimal("3"),
        depot_y=Decimal("0"),
    )
    locations = list(Location.objects.filter(site=grid_site, level="1").order_by("code")[::3])
    plan = plan_route(grid_site, locations, time_budget_ms=50)
    assert len(locations) == 14 and plan.method == "local_search"
    assert sorted(plan.order) == list(range(14))
    assert plan.length_m <= plan.sshape_m and plan.length_m <= plan.sequence_m


# -- the map ----------------------------------------------------------------------------------
def picked_list(site, admin, locations) -> PickList:
    """A pick list over `locations` in route order, the way the waves service stores it."""
    plan = plan_route(site, locations)
    channel = SalesChannel.objects.create(code="TM", name="天猫", platform="tmall")
    order = CustomerOrder.objects.create(
        number="SO1",
        channel=channel,
        channel_order_id="1",
        status=OrderStatus.IN_FULFILMENT,
        placed_at=timezone.now(),
        customer_name="张三",
        phone="13800000000",
        address="北京",
    )
    sku = make_sku(admin, name="<script>alert(1)</script>牛奶")
    line = OrderLine.objects.create(order=order, line_no=1, sku=sku, quantity=1000)
    shipment = Shipment.objects.create(
        number="SH1", order=order, site=site, status=ShipmentStatus.WAVED
    )
    shipment_line = ShipmentLine.objects.create(
        shipment=shipment, order_line=line, sku=sku, quantity=1000 * len(locations)
    )
    wave = Wave.objects.create(number="WV1", site=site, status=WaveStatus.RELEASED)
    pick_list = PickList.objects.create(
        number="PL1",
        wave=wave,
        status=PickListStatus.OPEN,
        route_method=plan.method,
        route_length_m=plan.length_m,
        sshape_length_m=plan.sshape_m,
        sequence_length_m=plan.sequence_m,
        route_path=plan.path,
    )
    for sequence, i in enumerate(plan.order, start=1):
        PickTask.objects.create(
            shipment_line=shipment_line,
            pick_list=pick_list,
            sequence=sequence * 10,
            location=locations[i],
            sku=sku,
            quantity=1000,
            status=PickTaskStatus.PICKED if sequence == 1 else PickTaskStatus.OPEN,
        )
    return pick_list


def render(site, pick_list=None) -> str:
    template = Template("{% load fulfilment_map %}{% warehouse_map site pick_list %}")
    with translation.override("en"):  # the default language is Chinese
        return template.render(Context({"site": site, "pick_list": pick_list}))


def test_map_draws_route_stops_and_saving(grid_site, admin):
    locations = bins(grid_site, "A-04-05-1", "A-01-05-1", "A-04-05-2")
    pick_list = picked_list(grid_site, admin, locations)
    html = render(grid_site, pick_list)
    assert 'viewBox="1 -15 13 16.8"' in html  # x 3..12 and y 0.2..13, 2 m around, y flipped
    assert html.count("<line") == 4 + 2  # aisles and cross-aisles
    assert html.count('width="0.5" height="0.5"') == 40  # one square per rack position
    assert 'points="3,-0.2 3,-6 3,-0.2 12,-0.2 12,-6 12,-0.2 3,-0.2"' in html
    assert html.count('data-testid="map-stop"') == 2  # two bins, one marker each
    assert ">1</text>" in html and ">2-3</text>" in html
    assert "Route 41.2 m" in html and "S-shape 43.6 m" in html
    assert "5.5% shorter than S-shape" in html  # one decimal, as on the wave page
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_map_without_pick_list_or_layout(grid_site, admin):
    html = render(grid_site)
    assert 'data-testid="map-bins"' in html and "map-stop" not in html and "polyline" not in html
    assert 'data-testid="map-empty"' in render(make_site(admin, "cdc"))
