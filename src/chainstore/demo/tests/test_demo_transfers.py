"""The demo's transfers: rules, every state through the real services, a year of history
for the cost report, the ledger still balanced, and the same result for the same seed."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chainstore.inventory.verify import verify_ledger
from chainstore.transfers.models import (
    ApprovalRule,
    ApprovalStep,
    Discrepancy,
    Resolution,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferTrackingEvent,
)
from chainstore.transfers.services.costs import default_months, transfer_cost_report

SMALL = {"stores": 2, "skus": 30, "days": 5, "seed": 1}


def _demo(**options) -> None:
    call_command("demo", stdout=io.StringIO(), **{**SMALL, **options})


def _live():
    """Transfers made through the services (the year of history is records only, with no
    timeline)."""
    return Transfer.objects.filter(events__isnull=False).distinct().order_by("id")


def _history():
    return Transfer.objects.filter(events__isnull=True)


@pytest.mark.django_db
def test_demo_transfers_cover_every_state_and_keep_the_ledger():
    _demo()

    assert list(ApprovalRule.objects.values_list("name", flat=True)) == [
        "仓间调拨：仓库经理 → 总部",
        "调拨金额超过 ¥10,000：区域经理 → 总部",
    ]
    statuses = Counter(_live().values_list("status", flat=True))
    assert statuses == {
        TransferStatus.DRAFT: 1,
        TransferStatus.CANCELLED: 1,
        TransferStatus.PENDING_APPROVAL: 3,  # level 1, level 2, warehouse to warehouse
        TransferStatus.RETURNED: 1,
        TransferStatus.REJECTED: 1,
        TransferStatus.APPROVED: 1,
        TransferStatus.PICKING: 1,
        TransferStatus.IN_TRANSIT: 1,
        TransferStatus.RECEIVED: 1,
        TransferStatus.CLOSED: 2,
    }
    pending = ApprovalStep.objects.filter(status=StepStatus.PENDING)
    assert sorted(pending.values_list("seq", "name")) == [
        (1, "仓库经理"),
        (1, "区域经理"),
        (2, "总部"),
    ]
    in_transit = _live().get(status=TransferStatus.IN_TRANSIT)
    assert TransferTrackingEvent.objects.filter(transfer=in_transit).count() == 3
    claim = Discrepancy.objects.get(resolution=Resolution.CARRIER_CLAIM)
    assert claim.claim_fen > 0 and claim.line.transfer.status == TransferStatus.CLOSED
    assert Discrepancy.objects.filter(resolution="").count() == 1  # the damaged unit
    assert verify_ledger() == []


@pytest.mark.django_db
def test_history_feeds_the_cost_report_for_a_year():
    _demo()

    history = _history()
    assert history.count() == 2 * 104
    assert not history.exclude(status=TransferStatus.CLOSED).exists()
    first, last = default_months()
    report = transfer_cost_report(
        actor=get_user_model().objects.get(username="planner"), month_from=first, month_to=last
    )
    assert {r.site.code for r in report.site_totals} == {"S001", "S002"}
    assert report.total.transfers >= 200
    assert report.total.goods_value_fen > report.total.transfer_cost_fen > 0
    assert 0 < report.total.cost_percent < 20
    assert all(t.shipped_at < timezone.now() for t in history[:50])
    # Every demo transfer opens from the list: its number is a real document number.
    client = Client()
    client.force_login(get_user_model().objects.get(username="planner"))
    assert client.get("/transfers/", {"status": "closed"}).status_code == 200
    for number in Transfer.objects.values_list("number", flat=True):
        reverse("transfers:detail", args=[number])


@pytest.mark.django_db(transaction=True)
def test_same_seed_same_transfers():
    _demo()
    first = list(
        _live().values_list("status", "source__code", "destination__code", "reason", "value_fen")
    )
    history = sorted(_history().values_list("freight_fen", "handling_fen"))
    _demo(reset=True)
    assert (
        list(
            _live().values_list(
                "status", "source__code", "destination__code", "reason", "value_fen"
            )
        )
        == first
    )
    assert sorted(_history().values_list("freight_fen", "handling_fen")) == history
