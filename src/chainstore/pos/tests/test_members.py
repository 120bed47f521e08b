"""Members: lookup, enrolment, the points ledger (service and API)."""

import pytest

from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.core.errors import Conflict, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_user
from chainstore.pos.errors import MemberNotFound, PointsInsufficient
from chainstore.pos.models import Member, MemberTier, PointsEntry
from chainstore.pos.services.members import (
    earn_points,
    enroll_member,
    lookup_member,
    redeem_points,
    reverse_points,
)
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import API, client_for

pytestmark = pytest.mark.django_db


def _ledger(member):
    return list(
        PointsEntry.objects.filter(member=member)
        .order_by("id")
        .values_list("kind", "delta", "balance_after")
    )


def test_lookup_by_phone_or_card(cashier, member):
    assert lookup_member(q="13800138000", actor=cashier) == member
    assert lookup_member(q=" 880000000017 ", actor=cashier) == member
    with pytest.raises(MemberNotFound):
        lookup_member(q="13900000000", actor=cashier)


def test_enrol_generates_a_card_number_with_a_check_digit(store, cashier, gold):
    member = enroll_member(phone="13900001111", name="李雷", actor=cashier, home_store=store)

    assert member.tier == gold  # the lowest tier
    number = member.card_number
    assert len(number) == 12 and number.startswith("88")
    assert gtin_check_digit(number[:-1]) == int(number[-1])
    assert AuditEvent.objects.filter(action="pos.member.enroll", object_id=str(member.pk)).exists()


def test_enrol_refuses_a_duplicate_phone_or_card_and_bad_input(cashier, member):
    count = Member.objects.count()
    with pytest.raises(Conflict) as exc:
        enroll_member(phone="13800138000", actor=cashier)
    assert exc.value.code == "duplicate_phone"
    with pytest.raises(Conflict) as exc:
        enroll_member(phone="13900002222", card_number="880000000017", actor=cashier)
    assert exc.value.code == "duplicate_card_number"
    with pytest.raises(ValidationFailed):
        enroll_member(phone="12-34", actor=cashier)
    assert Member.objects.count() == count


def test_enrol_needs_pos_members(store):
    with pytest.raises(PermissionDenied):
        enroll_member(phone="13900003333", actor=make_user("warehouse_operator", sites=[store]))


def test_points_ledger_keeps_the_balance_in_step(cashier, member):
    earn_points(member=member, points=100, sale=None, actor=cashier)
    redeem_points(member=member, points=30, sale=None, actor=cashier)
    with pytest.raises(PointsInsufficient):
        redeem_points(member=member, points=71, sale=None, actor=cashier)
    member.refresh_from_db()

    assert member.points_balance == 70
    assert _ledger(member) == [("earn", 100, 100), ("redeem", -30, 70)]


def test_reverse_points_refuses_or_clamps_when_already_spent(cashier, member):
    earn_points(member=member, points=50, sale=None, actor=cashier)
    with pytest.raises(PointsInsufficient):
        reverse_points(member=member, points=80, sale=None, actor=cashier)

    entry = reverse_points(member=member, points=80, sale=None, actor=cashier, clamp=True)

    assert (entry.delta, entry.balance_after) == (-50, 0)
    assert reverse_points(member=member, points=10, sale=None, actor=cashier, clamp=True) is None
    assert _ledger(member) == [("earn", 50, 50), ("reverse", -50, 0)]


def test_points_entries_are_immutable(cashier, member):
    entry = earn_points(member=member, points=5, sale=None, actor=cashier)
    entry.delta = 500
    with pytest.raises(ValueError):
        entry.save()


# -- API -------------------------------------------------------------------------------
def test_member_api_lookup_enrol_detail_and_points(store, cashier, member):
    api = client_for(cashier)
    earn_points(member=member, points=12, sale=None, actor=cashier)

    found = api.get(API + "/pos/members/lookup", {"q": "13800138000"})
    assert found.status_code == 200
    assert found.json() == {
        "id": member.pk,
        "card_number": "880000000017",
        "phone": "13800138000",
        "name": "王芳",
        "tier": "gold",
        "tier_name": "金卡",
        "points_balance": 12,
        "is_active": True,
    }
    assert api.get(API + "/pos/members/lookup", {"q": "000"}).json()["code"] == "member_not_found"

    created = api.post(
        API + "/pos/members",
        {"phone": "13900004444", "name": "韩梅梅", "home_store": store.code},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    # Cashiers enrol at the base tier and do not read member records by id.
    MemberTier.objects.create(code="normal", name="普通会员", rank=0)
    golden = api.post(
        API + "/pos/members",
        {"phone": "13900005555", "name": "李雷", "tier": "gold"},
        content_type="application/json",
    )
    assert (golden.status_code, golden.json()["code"]) == (403, "permission_denied")
    assert api.get(f"{API}/pos/members/{member.pk}").status_code == 403

    api = client_for(make_user("store_manager", sites=[store]))
    detail = api.get(f"{API}/pos/members/{member.pk}")
    assert detail.json()["points_balance"] == 12
    points = api.get(f"{API}/pos/members/{member.pk}/points").json()
    assert points["count"] == 1
    assert points["items"][0].items() >= {"kind": "earn", "delta": 12, "balance_after": 12}.items()


def test_member_api_needs_pos_members(store, member):
    api = client_for(make_user("warehouse_operator", sites=[store]))
    res = api.get(API + "/pos/members/lookup", {"q": "13800138000"})
    assert res.status_code == 403
    assert res.json()["code"] == "permission_denied"
