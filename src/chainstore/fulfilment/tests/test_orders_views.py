"""The order screens and the settings screen: permissions, scope, actions, escaping."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from chainstore.core.testing import make_sku, make_user
from chainstore.fulfilment.models import (
    OrderStatus,
    SalesChannel,
    ShipFromSite,
    SourcingPolicy,
)
from chainstore.fulfilment.services.intake import create_order
from chainstore.fulfilment.services.waves import create_wave
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    available,
    make_channel,
    order_input,
    put,
    ship_from,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    channel = make_channel()
    site, bin_ = ship_from(admin)
    far, far_bin = ship_from(admin, at=BEIJING)
    milk = make_sku(admin, name="纯牛奶")
    put(admin, site, bin_, milk, 10)
    put(admin, far, far_bin, milk, 10)
    return channel, site, far, milk


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _order(admin, channel, milk, units=2, **kw):
    return create_order(
        channel_code=channel.code, payload=order_input([(milk, units)], **kw), actor=admin
    )


def test_order_list_counts_filters_and_escapes(admin, world):
    channel, _site, _far, milk = world
    _order(admin, channel, milk, customer_name="<script>alert(1)</script>")
    _order(admin, channel, milk, paid=False)
    _order(admin, channel, make_sku(admin))  # backorder
    client = _client(admin)

    page = client.get(reverse("fulfilment:orders"))
    only_unpaid = client.get(reverse("fulfilment:orders"), {"status": "pending_payment"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'data-status="pending_payment"' in html
    counts = page.context["statuses"]
    assert dict((v, n) for v, _label, n in counts)[OrderStatus.BACKORDER] == 1
    assert page.context["total"] == 3
    assert [o.status for o in only_unpaid.context["page"]] == [OrderStatus.PENDING_PAYMENT]


def test_list_is_scoped_for_site_staff(admin, world):
    channel, site, far, milk = world
    here = _order(admin, channel, milk)
    ShipFromSite.objects.filter(site=site).update(enabled=False)
    there = _order(admin, channel, milk)
    manager = _client(make_user("warehouse_manager", sites=[far]))

    page = manager.get(reverse("fulfilment:orders"))
    hidden = manager.get(reverse("fulfilment:order_detail", args=[here.number]))

    assert [o.number for o in page.context["page"]] == [there.number]
    assert hidden.status_code == 403
    assert (
        _client(make_user("cashier", sites=[site])).get(reverse("fulfilment:orders")).status_code
        == 403
    )


def test_order_detail_shows_decision_timeline_and_actions(admin, world):
    channel, site, _far, milk = world
    order = _order(admin, channel, milk)

    page = _client(admin).get(reverse("fulfilment:order_detail", args=[order.number]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-chosen="1"' in html and site.code in html
    for testid in ("cancel", "change-address", "resource", "timeline-csv", "timeline"):
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="pay"' not in html  # already paid
    assert [row.kind for row in page.context["d"].timeline] == ["received", "sourced", "reserved"]
    auditor = _client(make_user("auditor")).get(
        reverse("fulfilment:order_detail", args=[order.number])
    )
    assert auditor.status_code == 200 and 'data-testid="cancel"' not in auditor.content.decode()


def test_order_page_links_shipments_and_waves_where_the_user_may_open_them(admin, world):
    channel, site, _far, milk = world
    order = _order(admin, channel, milk)
    shipment = order.shipments.get()
    wave = create_wave(site=site, actor=admin, shipment_ids=[shipment.pk])
    url = reverse("fulfilment:order_detail", args=[order.number])
    shipment_url = reverse("fulfilment:shipment_detail", args=[shipment.number])
    wave_url = reverse("fulfilment:wave_detail", args=[wave.number])

    as_admin = _client(admin).get(url).content.decode()
    as_auditor = _client(make_user("auditor")).get(url).content.decode()
    as_picker = _client(make_user("warehouse_operator", sites=[site])).get(url)

    assert f'href="{shipment_url}"' in as_admin and f'href="{wave_url}"' in as_admin
    assert _client(admin).get(shipment_url).status_code == 200
    assert _client(admin).get(wave_url).status_code == 200
    # An auditor may read the shipment but not the floor's wave pages: no dead link.
    assert f'href="{shipment_url}"' in as_auditor
    assert f'href="{wave_url}"' not in as_auditor and wave.number in as_auditor
    assert as_picker.status_code == 200
    assert f'href="{wave_url}"' in as_picker.content.decode()


def test_actions_from_the_order_page(admin, world):
    channel, site, far, milk = world
    order = _order(admin, channel, milk, paid=False)
    client = _client(admin)
    detail = reverse("fulfilment:order_detail", args=[order.number])

    paid = client.post(reverse("fulfilment:order_pay", args=[order.number]))
    moved = client.post(
        reverse("fulfilment:order_address", args=[order.number]),
        {
            "customer_name": "李四",
            "phone": "13900000000",
            "city": "北京",
            "address": "朝阳区1号",
            "latitude": str(BEIJING[0]),
            "longitude": str(BEIJING[1]),
            "resource": "on",
        },
    )
    order.refresh_from_db()
    assert order.shipments.exclude(status="cancelled").get().site == far
    resourced = client.post(reverse("fulfilment:order_resource", args=[order.number]))
    cancelled = client.post(
        reverse("fulfilment:order_cancel", args=[order.number]), {"reason": "客户取消"}
    )
    again = client.post(reverse("fulfilment:order_resource", args=[order.number]), follow=True)
    get_cancel = client.get(reverse("fulfilment:order_cancel", args=[order.number]))

    assert paid.status_code == moved.status_code == resourced.status_code == 302
    assert cancelled["Location"] == detail
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "客户取消"
    assert order.customer_name == "李四"
    assert available(site, milk) == 10_000 and available(far, milk) == 10_000
    last = list(again.context["messages"])[-1]
    with translation.override(settings.LANGUAGE_CODE):  # the page's language
        refused = translation.gettext("The order is cancelled.")
    assert last.level_tag == "error" and refused in last.message
    assert get_cancel.status_code == 405


def test_operators_cannot_act_on_orders(admin, world):
    channel, site, _far, milk = world
    order = _order(admin, channel, milk)
    operator = _client(make_user("warehouse_operator", sites=[site]))

    res = operator.post(reverse("fulfilment:order_cancel", args=[order.number]), {"reason": "x"})

    assert res.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_timeline_csv_download(admin, world):
    channel, _site, _far, milk = world
    order = _order(admin, channel, milk)

    res = _client(admin).get(reverse("fulfilment:order_timeline_csv", args=[order.number]))

    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    assert res.content.startswith("\ufeff".encode())
    assert len(res.content.decode("utf-8-sig").strip().splitlines()) == 4


def test_settings_page_and_forms(admin, world):
    _channel, site, _far, _milk = world
    hq = _client(make_user("hq_planner"))

    page = hq.get(reverse("fulfilment:settings"))
    saved = hq.post(
        reverse("fulfilment:settings_policy"),
        {
            "strategy": "custom",
            "weight_distance": "3",
            "weight_shipments": "40",
            "weight_cost": "1",
            "max_candidates": "6",
            "max_shipments": "2",
            "time_budget_ms": "200",
        },
    )
    bad = hq.post(reverse("fulfilment:settings_policy"), {"strategy": "custom"})
    site_saved = hq.post(
        reverse("fulfilment:settings_site"),
        {"site": site.code, "base_cost": "5.5", "per_kg_cost": "1", "priority": "2"},
    )
    channel_saved = hq.post(
        reverse("fulfilment:settings_channel"),
        {
            "code": "DY01",
            "name": "抖音小店",
            "platform": "douyin",
            "payment_timeout_minutes": "20",
            "default_carrier": "sim",
            "is_active": "on",
        },
    )

    assert page.status_code == 200
    assert 'data-testid="policy-form"' in page.content.decode()
    assert saved.status_code == 302 and bad.status_code == 422
    policy = SourcingPolicy.objects.get()
    assert (policy.strategy, policy.max_shipments, policy.allow_split) == ("custom", 2, False)
    config = ShipFromSite.objects.get(site=site)
    assert (config.enabled, config.base_cost_fen, config.per_kg_cost_fen, config.priority) == (
        False,
        550,
        100,
        2,
    )
    assert site_saved.status_code == channel_saved.status_code == 302
    assert SalesChannel.objects.get(code="DY01").payment_timeout_minutes == 20
    manager = _client(make_user("warehouse_manager", sites=[site]))
    assert manager.get(reverse("fulfilment:settings")).status_code == 403
    assert (
        manager.post(
            reverse("fulfilment:settings_site"),
            {
                "site": site.code,
                "enabled": "on",
                "base_cost": "1",
                "per_kg_cost": "1",
                "priority": "0",
            },
        ).status_code
        == 403
    )
