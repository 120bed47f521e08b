"""Wave planning and picking pages: roles, site scope, the forms and the phone screens."""

import json

import pytest
from django.urls import reverse

from chainstore.core.testing import make_user
from chainstore.fulfilment.models import (
    PickList,
    PickListStatus,
    Shipment,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.tests.test_waves_support import (
    build_world,
    logged_in,
    put,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = build_world(admin)
    put(w, w.milk, 10_000, "A-01-08")
    w.order((w.milk, 1000), carrier="sf")
    w.order((w.milk, 2000), carrier="sf")
    w.order((w.milk, 1000), carrier="jd")
    return w


@pytest.fixture
def planner(world):
    return make_user("warehouse_manager", [world.site])


@pytest.fixture
def picker(world):
    return make_user("warehouse_operator", [world.site])


def test_planning_page_shows_groups_and_creates_a_wave(world, planner):
    client = logged_in(planner)
    page = client.get(reverse("fulfilment:waves"))

    assert page.status_code == 200
    assert page.context["site"] == world.site
    assert sorted((g.carrier, g.shipments) for g in page.context["groups"]) == [
        ("jd", 1),
        ("sf", 2),
    ]
    assert b'data-testid="wave-groups"' in page.content

    res = client.post(
        reverse("fulfilment:waves"),
        {"site": world.site.code, "carrier": "sf", "zone": "", "max_orders": 10, "cart_size": 1},
    )

    wave = Wave.objects.get()
    assert res.status_code == 302 and res.url == reverse(
        "fulfilment:wave_detail", args=[wave.number]
    )
    assert wave.pick_lists.count() == 2 and wave.carrier == "sf"
    listed = client.get(reverse("fulfilment:waves"))
    assert [w.number for w in listed.context["page"]] == [wave.number]


def test_bad_form_and_empty_selection_are_shown_not_raised(world, planner):
    client = logged_in(planner)

    bad = client.post(
        reverse("fulfilment:waves"), {"site": world.site.code, "max_orders": 0, "cart_size": 8}
    )
    nothing = client.post(
        reverse("fulfilment:waves"),
        {"site": world.site.code, "carrier": "ems", "max_orders": 5, "cart_size": 8},
    )

    assert bad.status_code == 422 and "max_orders" in bad.context["form"].errors
    assert nothing.status_code == 422 and nothing.context["form"].non_field_errors()
    assert not Wave.objects.exists()


def test_wave_detail_shows_lists_routes_and_closes(world, planner):
    client = logged_in(planner)
    client.post(
        reverse("fulfilment:waves"),
        {"site": world.site.code, "max_orders": 10, "cart_size": 2},
    )
    wave = Wave.objects.get()

    page = client.get(reverse("fulfilment:wave_detail", args=[wave.number]))

    assert page.status_code == 200
    assert [pl.number for pl in page.context["lists"]] == list(
        wave.pick_lists.order_by("id").values_list("number", flat=True)
    )
    assert page.content.count(b'data-testid="pick-list-card"') == 2
    assert b"<svg" in page.content  # the warehouse map with the route
    closed = client.post(reverse("fulfilment:wave_close", args=[wave.number]))
    assert closed.status_code == 302
    wave.refresh_from_db()
    assert wave.status == WaveStatus.DONE
    again = client.post(reverse("fulfilment:wave_close", args=[wave.number]), follow=True)
    assert again.status_code == 200 and list(again.context["messages"])


def test_picker_is_sent_to_the_phone_screens_and_starts_a_list(world, planner, picker):
    logged_in(planner).post(
        reverse("fulfilment:waves"), {"site": world.site.code, "max_orders": 10, "cart_size": 8}
    )
    pick_list = PickList.objects.get()
    client = logged_in(picker)

    assert client.get(reverse("fulfilment:waves")).url == reverse("fulfilment:pick")
    home = client.get(reverse("fulfilment:pick"))
    assert home.status_code == 200
    assert [pl.number for pl in home.context["open_lists"]] == [pick_list.number]

    started = client.post(reverse("fulfilment:pick_start", args=[pick_list.number]))
    assert started.url == reverse("fulfilment:pick_list", args=[pick_list.number])
    pick_list.refresh_from_db()
    assert (pick_list.status, pick_list.picker) == (PickListStatus.PICKING, picker)
    assert set(Shipment.objects.values_list("status", flat=True)) == {ShipmentStatus.PICKING}

    screen = client.get(reverse("fulfilment:pick_list", args=[pick_list.number]))
    assert screen.status_code == 200
    config = json.loads(
        screen.content.decode()
        .split('id="pick-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["canPick"] is True and config["api"] == "/api/v1/fulfilment"
    assert [t["sequence"] for t in config["pickList"]["tasks"]] == [1, 2, 3]
    assert b'data-testid="pick-form"' in screen.content
    assert [pl.number for pl in client.get(reverse("fulfilment:pick")).context["mine"]] == [
        pick_list.number
    ]


def test_scope_and_roles(world, planner):
    logged_in(planner).post(
        reverse("fulfilment:waves"), {"site": world.site.code, "max_orders": 10, "cart_size": 8}
    )
    wave = Wave.objects.get()
    number = wave.pick_lists.get().number
    outsider = logged_in(make_user("warehouse_manager", [world.other]))
    cashier = logged_in(make_user("cashier", [world.site]))

    assert outsider.get(reverse("fulfilment:wave_detail", args=[wave.number])).status_code == 403
    assert outsider.get(reverse("fulfilment:pick_list", args=[number])).status_code == 403
    assert outsider.get(reverse("fulfilment:waves"), {"site": world.site.code}).status_code == 403
    assert outsider.post(reverse("fulfilment:pick_start", args=[number])).status_code == 403
    assert cashier.get(reverse("fulfilment:waves")).status_code == 403
    assert cashier.get(reverse("fulfilment:pick")).status_code == 403
    # a second picker sees the list read-only once it is taken
    first, second = (make_user("warehouse_operator", [world.site]) for _ in range(2))
    logged_in(first).post(reverse("fulfilment:pick_start", args=[number]))
    view = logged_in(second).get(reverse("fulfilment:pick_list", args=[number]))
    assert view.status_code == 200 and b'data-testid="pick-form"' not in view.content
    assert (
        logged_in(make_user("warehouse_manager", [world.site]))
        .get(reverse("fulfilment:pick_list", args=[number]))
        .status_code
        == 200
    )
