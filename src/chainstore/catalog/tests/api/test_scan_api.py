import datetime as dt

import pytest
from django.test import Client

from chainstore.catalog.services import add_barcode, update_sku
from chainstore.core.testing import make_sku, make_user
from chainstore.core.tests.helpers import API

pytestmark = pytest.mark.django_db
GTIN = "06901234567892"


@pytest.fixture
def noodles(admin):
    sku = make_sku(admin, code="MIAN-01", name="康师傅红烧牛肉面", barcode="6901234567892")
    add_barcode(sku=sku, code="036000291452", kind="upca", actor=admin)
    add_barcode(sku=sku, code="3034257BF7194E4000001A85", kind="epc", actor=admin)
    add_barcode(sku=sku, code="INT-777", kind="internal", actor=admin)
    return sku


def _scan(client, code):
    return client.get(f"{API}/catalog/scan", {"code": code})


@pytest.mark.parametrize(
    ("raw", "kind", "barcode"),
    [
        ("6901234567892", "gtin", "6901234567892"),
        ("036000291452", "gtin", "036000291452"),
        ("3034257bf7194e4000001a85", "epc", "3034257BF7194E4000001A85"),
        ("INT-777", "internal", "INT-777"),
        ("MIAN-01", "internal", "MIAN-01"),  # the SKU code itself
    ],
)
def test_scan_resolves_sku(api, noodles, raw, kind, barcode):
    res = _scan(api, raw)
    assert res.status_code == 200, res.content
    body = res.json()
    assert (body["kind"], body["barcode"], body["sku"]["code"]) == (kind, barcode, "MIAN-01")


def test_gs1_scan_returns_lot_expiry_serial(api, noodles):
    for raw in (
        f"(01){GTIN}(17)270200(10)L-9(21)S-1",
        f"]C101{GTIN}1727020010L-9\x1d21S-1",
        f"]d201{GTIN}10L-9\x1d1727020021S-1",
    ):
        body = _scan(api, raw).json()
        assert (body["kind"], body["gtin"], body["lot"], body["serial"]) == (
            "gs1",
            GTIN,
            "L-9",
            "S-1",
        ), raw
        assert body["expiry"] == str(dt.date(2027, 2, 28))
        assert body["sku"]["code"] == "MIAN-01"


def test_gtin14_with_indicator_is_unknown_unless_registered(api, admin, noodles):
    res = _scan(api, "16901234567899")
    assert (res.status_code, res.json()["code"]) == (404, "unknown_barcode")
    add_barcode(sku=noodles, code="16901234567899", kind="gtin14", actor=admin)
    assert _scan(api, "16901234567899").json()["barcode"] == "16901234567899"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("6901234567885", 404, "unknown_barcode"),
        ("NOPE-123", 404, "unknown_barcode"),
        ("6901234567893", 422, "bad_check_digit"),
        (f"(01){GTIN}(17)271399", 422, "invalid_gs1"),
        ("(10)LOT", 422, "gs1_without_gtin"),
    ],
)
def test_scan_errors(api, noodles, raw, status, code):
    res = _scan(api, raw)
    assert res.status_code == status
    assert res.json()["code"] == code
    assert set(res.json()) == {"code", "message", "details"}


def test_inactive_sku_scan_is_refused(api, admin, noodles):
    update_sku(sku=noodles, is_active=False, actor=admin)
    res = _scan(api, "6901234567892")
    assert (res.status_code, res.json()["code"]) == (422, "inactive_sku")


def test_scan_needs_login_but_any_role(noodles):
    assert Client().get(f"{API}/catalog/scan", {"code": "6901234567892"}).status_code == 401
    client = Client()
    client.force_login(make_user("cashier"))
    assert _scan(client, "6901234567892").status_code == 200
