"""The order timeline reads as sentences in the reader's language: every event kind, from
intake through picking and a short pick to a cancel, never a raw dict, list or internal key."""

import re

import pytest
from django.utils import timezone, translation

from chainstore.core.testing import make_sku
from chainstore.fulfilment.models import EventKind, PickList
from chainstore.fulfilment.selectors import describe_event, timeline_rows
from chainstore.fulfilment.services import picking, shorts
from chainstore.fulfilment.services.care import cancel_order, change_address
from chainstore.fulfilment.services.intake import AddressInput, confirm_payment, create_order
from chainstore.fulfilment.services.waves import cancel_wave, create_wave
from chainstore.fulfilment.tests.orders_world import make_channel, order_input, put, ship_from

pytestmark = pytest.mark.django_db

# What must never reach a person: reprs, internal keys and Python literals.
LEAKS = re.compile(
    r"[{}\[\]]|'|\b(None|True|False)\b|idempotency|_key|\bresult\b|\btask\b|"
    r"weight_override|substituted_for|resource_error|pick_list|channel_order_id|"
    r"customer_name|shipment_status|written_off|\bdecision\b"
)


@pytest.fixture
def story(admin):
    """One order's life: unpaid intake with a line nobody stocks, payment, a new address,
    a wave given back and a second one, a pick, a short pick, then a cancel."""
    channel = make_channel()
    site, bin_ = ship_from(admin)
    milk = make_sku(admin, name="纯牛奶", code="MILK")
    tea = make_sku(admin, name="乌龙茶", code="TEA")
    put(admin, site, bin_, milk, 3)
    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 3), (tea, 1)], order_id="TB-1", paid=False),
        actor=admin,
    )
    confirm_payment(order, actor=admin)
    change_address(order, actor=admin, address=AddressInput(address="南京路1号", city="上海"))
    shipment = order.shipments.get()
    cancel_wave(create_wave(site=site, actor=admin, shipment_ids=[shipment.pk]), admin)
    wave = create_wave(site=site, actor=admin, shipment_ids=[shipment.pk])
    pick_list = picking.start_pick_list(PickList.objects.get(wave=wave), admin)
    task = picking.next_task(pick_list)
    picking.confirm_pick(
        task=task,
        actor=admin,
        bin_scan=bin_.code,
        item_scan=milk.barcodes.get().code,
        quantity=1000,
        idempotency_key="pick-1",
    )
    shorts.report_short(task=task, actor=admin, found=1000, idempotency_key="short-1")
    cancel_order(order, actor=admin, reason="买家取消")
    return order, bin_, wave


def test_every_event_of_an_order_reads_in_english(story):
    order, bin_, wave = story
    with translation.override("en"):
        rows = timeline_rows(order)

    kinds = {row.kind for row in rows}
    assert kinds >= {
        EventKind.RECEIVED,
        EventKind.SOURCED,
        EventKind.RESERVED,
        EventKind.BACKORDERED,
        EventKind.PAID,
        EventKind.ADDRESS_CHANGED,
        EventKind.WAVED,
        EventKind.PICKED,
        EventKind.SHORT_PICKED,
        EventKind.CANCELLED,
    }
    for row in rows:
        assert row.details, row
        assert not LEAKS.search(row.details), (row.kind, row.details)
    text = {row.kind: row.details for row in rows}  # the last of each kind
    pay_by = f"{timezone.localtime(order.pay_by):%Y-%m-%d %H:%M}"
    assert next(r.details for r in rows if r.kind == EventKind.RESERVED) == (
        f"MILK × 3 (bin {bin_.code}); held until {pay_by}"
    )
    assert text[EventKind.BACKORDERED] == "waiting for stock: MILK × 1, TEA × 1"
    assert text[EventKind.PAID].startswith("paid at 20")
    first_sourced = next(r.details for r in rows if r.kind == EventKind.SOURCED)
    assert first_sourced.startswith("at intake: ships from ")
    assert "candidate sites: 1; backordered: TEA × 1; best plan (proven)" in first_sourced
    assert "address: 世纪大道100号 → 南京路1号" in text[EventKind.ADDRESS_CHANGED]
    assert "latitude: 31.230400 → —" in text[EventKind.ADDRESS_CHANGED]
    waved = [r.details for r in rows if r.kind == EventKind.WAVED]
    assert waved[1].startswith("returned from wave WV") and "(the wave was cancelled)" in waved[1]
    assert waved[2] == f"wave {wave.number}, pick list {PickList.objects.get(wave=wave).number}"
    assert text[EventKind.PICKED] == f"MILK × 1 (bin {bin_.code})"
    assert text[EventKind.SHORT_PICKED].startswith(
        f"MILK at bin {bin_.code}: found 1 of 2, 1 short; 1 written off at the bin; "
        "the rest went back to sourcing"
    )
    put_back = f"MILK × 1 (bin {bin_.code})"
    assert text[EventKind.CANCELLED] == f"reason: 买家取消; put back: {put_back}, {put_back}"


def test_every_event_of_an_order_reads_in_chinese(story):
    """Needs the fulfilment strings merged into the catalogs (.i18n/c- and e-fulfilment.json)."""
    order, bin_, _wave = story
    with translation.override("zh-hans"):
        rows = timeline_rows(order)

    for row in rows:
        assert not LEAKS.search(row.details), (row.kind, row.details)
        assert re.search(r"[\u4e00-\u9fff]", row.details), (row.kind, row.details)
    text = {row.kind: row.details for row in rows}
    assert text[EventKind.BACKORDERED] == "等待到货：MILK × 1, TEA × 1"
    assert text[EventKind.PICKED] == f"MILK × 1 (库位 {bin_.code})"
    put_back = f"MILK × 1 (库位 {bin_.code})"
    assert text[EventKind.CANCELLED] == f"原因：买家取消; 放回：{put_back}, {put_back}"
    assert text[EventKind.SHORT_PICKED] == (
        f"库位 {bin_.code} 的 MILK：找到 1，应拣 2，缺 1; 库位核销 1; 其余已重新分配"
    )


@pytest.mark.parametrize(
    ("kind", "data", "english"),
    [
        # The outbound kinds are E's readings (services.trace.describe_outbound_event).
        (
            "checked",
            {
                "weight_g": 2100,
                "expected_weight_g": 2100,
                "deviation_g": 0,
                "weight_override": False,
            },
            "weight 2100 g, expected 2100 g, deviation 0 g",
        ),
        (
            "shipped",
            {"carrier": "sim", "tracking_numbers": ["SIM1", "SIM2"]},
            "carrier sim, tracking SIM1 SIM2",
        ),
        ("delivered", {"parcels": 2}, "every parcel delivered (2)"),
        (
            "picked",
            {
                "task": 7,
                "pick_list": "PL1",
                "bin": "A-02",
                "sku": "MILK",
                "lot": "L1",
                "expiry": "2026-12-01",
                "quantity": "2.000",
                "substituted_for": "A-01 L0",
            },
            "MILK × 2 (lot L1, bin A-02); expires 2026-12-01; instead of A-01 L0",
        ),
        (
            "short_picked",
            {
                "bin": "A-01",
                "sku": "MILK",
                "lot": None,
                "expected": "3.000",
                "found": "0.000",
                "short": "3.000",
                "written_off": "0.000",
                "decision": None,
                "resource_error": "permission_denied",
                "idempotency_key": "k",
                "result": {"found": 0},
            },
            "MILK at bin A-01: found 0 of 3, 3 short; "
            "sourcing the rest again was refused: it waits as a backorder",
        ),
        (
            "waved",
            {"wave": "WV1", "action": "returned", "reason": "wave_closed"},
            "returned from wave WV1 (the wave was closed unfinished)",
        ),
        (
            "released",
            {
                "reason": "resource",
                "shipments": {
                    "SH1": [{"sku": "MILK", "quantity": "2.000", "lot": "", "bin": "A-01"}]
                },
            },
            "handed back to be sourced again; SH1: MILK × 2 (bin A-01)",
        ),
        (
            "cancelled",
            {"reason": "payment_timeout", "released": {"SH1": []}, "put_back": []},
            "reason: payment not received in time",
        ),
        ("cancelled", {"reason": "short_pick"}, "reason: nothing left to pick after a short pick"),
        (
            "sourced",
            {
                "trigger": "short_pick",
                "sites": [],
                "candidates": 0,
                "unfilled": {"MILK": "2.000"},
                "method": "no_stock",
                "optimal": True,
                "attempts": 1,
                "destination": {"basis": "unknown"},
            },
            "after a short pick: nothing could be reserved; candidate sites: 0; "
            "backordered: MILK × 2; no ship-from site has stock; "
            "the address has no location: distances count as 0",
        ),
        (
            "address_changed",
            {
                "old": {"phone": "1", "city": "上海"},
                "new": {"phone": "2", "city": "上海"},
                "resourced": True,
                "labels_to_reprint": ["SIM9"],
            },
            "phone: 1 → 2; sourced again for the new address; labels to reprint: SIM9",
        ),
        ("no_such_kind", {"secret": {"a": 1}}, ""),
    ],
)
def test_each_kind_reads_as_a_sentence(kind, data, english):
    with translation.override("en"):
        assert describe_event(kind, data) == english
