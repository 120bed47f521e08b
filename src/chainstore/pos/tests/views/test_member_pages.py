"""Member pages: tiers (pos.promotions), enrol/edit/search/detail (pos.members)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.pos.models import Member, MemberTier, PointsEntry
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db


def test_planner_creates_and_edits_tiers(shop: Shop):
    client = logged_in(shop.planner)

    created = client.post(
        reverse("pos:member_tiers"),
        {"code": "diamond", "name": "钻石会员", "rank": "3", "points_per_yuan": "3"},
    )
    duplicate = client.post(
        reverse("pos:member_tiers"),
        {"code": "gold", "name": "x", "rank": "1", "points_per_yuan": "1"},
    )
    edited = client.post(
        reverse("pos:member_tier_edit", args=["diamond"]),
        {"name": "黑钻会员", "rank": "4", "points_per_yuan": "5"},
    )

    assert created.status_code == 302 and edited.status_code == 302
    assert duplicate.status_code == 422 and duplicate.context["form"].errors["code"]
    tier = MemberTier.objects.get(code="diamond")
    assert (tier.name, tier.rank, tier.points_per_yuan) == ("黑钻会员", 4, 5)
    assert MemberTier.objects.get(code="gold").name == "金卡会员"


def test_tiers_need_pos_promotions(shop: Shop):
    client = logged_in(shop.manager)

    responses = [
        client.get(reverse("pos:member_tiers")),
        client.post(
            reverse("pos:member_tiers"),
            {"code": "x", "name": "x", "rank": "1", "points_per_yuan": "1"},
        ),
    ]

    assert [r.status_code for r in responses] == [403, 403]
    assert MemberTier.objects.count() == 2


def test_cashier_enrols_a_member_and_a_manager_edits_the_record(shop: Shop):
    client = logged_in(shop.cashier)

    enrolled = client.post(
        reverse("pos:member_create"),
        {
            "card_number": "",
            "phone": "138 0013 8000",
            "name": "张伟",
            "tier": "normal",
            "home_store": "SHA01",
        },
    )
    member = Member.objects.get()
    cashier_edit = client.post(reverse("pos:member_edit", args=[member.pk]), {"phone": "1"})
    cashier_list = client.get(reverse("pos:members"))
    client = logged_in(shop.manager)
    edited = client.post(
        reverse("pos:member_edit", args=[member.pk]),
        {
            "phone": "13900139000",
            "name": "张伟",
            "tier": "gold",
            "home_store": "",
            "is_active": "on",
        },
    )

    # A cashier enrols (and goes on to the next shopper) but cannot browse or edit records.
    assert enrolled.status_code == 302 and enrolled.url == reverse("pos:member_create")
    assert cashier_edit.status_code == cashier_list.status_code == 403
    assert edited.status_code == 302
    member.refresh_from_db()
    assert (member.phone, member.tier, member.home_store) == ("13900139000", shop.gold, None)
    assert len(member.card_number) >= 4
    event = AuditEvent.objects.get(action="member.update")
    assert event.data["phone"] == ["13800138000", "13900139000"]


def test_duplicate_phone_is_a_form_error(shop: Shop):
    Member.objects.create(card_number="C1", phone="13800138000", tier=shop.normal)
    client = logged_in(shop.cashier)

    res = client.post(
        reverse("pos:member_create"), {"phone": "13800138000", "name": "李娜", "tier": "normal"}
    )

    assert res.status_code == 422 and res.context["form"].errors["phone"]
    assert Member.objects.count() == 1


def test_search_and_detail_with_points_ledger(shop: Shop):
    zhang = Member.objects.create(
        card_number="886000000001",
        phone="13800138000",
        name="张伟",
        tier=shop.gold,
        points_balance=150,
    )
    Member.objects.create(
        card_number="886000000002", phone="13900139000", name="李娜", tier=shop.normal
    )
    PointsEntry.objects.create(member=zhang, kind="earn", delta=200, balance_after=200, note="购物")
    PointsEntry.objects.create(member=zhang, kind="redeem", delta=-50, balance_after=150)
    client = logged_in(shop.manager)

    by_phone = client.get(reverse("pos:members"), {"q": "138001"})
    by_tier = client.get(reverse("pos:members"), {"tier": "normal"})
    detail = client.get(reverse("pos:member_detail", args=[zhang.pk]))

    assert [m.name for m in by_phone.context["page"]] == ["张伟"]
    assert [m.name for m in by_tier.context["page"]] == ["李娜"]
    assert [(e.delta, e.balance_after) for e in detail.context["points"]] == [
        (-50, 150),
        (200, 200),
    ]
    assert 'data-testid="points-balance">150<' in detail.content.decode()


def test_members_need_pos_members(shop: Shop):
    member = Member.objects.create(card_number="C1", phone="13800138000", tier=shop.normal)
    client = logged_in(shop.auditor)

    responses = [
        client.get(reverse("pos:members")),
        client.get(reverse("pos:member_detail", args=[member.pk])),
        client.post(
            reverse("pos:member_edit", args=[member.pk]), {"phone": "13900000000", "tier": "gold"}
        ),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    member.refresh_from_db()
    assert (member.phone, member.tier) == ("13800138000", shop.normal)
