import pytest

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_sku
from chainstore.counts import services
from chainstore.counts.errors import (
    CountIncomplete,
    CountStockChanged,
    InvalidState,
    NothingToRecount,
    OutOfCountScope,
)
from chainstore.counts.models import CountEntry, CountLine, CountStatus
from chainstore.counts.selectors import count_summary
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Balance, StockMove, StockOperation
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.services import create_zone

from .conftest import put

pytestmark = pytest.mark.django_db


def on_hand(location, sku, lot=None):
    row = Balance.objects.filter(location=location, sku=sku, lot=lot).first()
    return row.on_hand if row else 0


def started(manager, store, **kw):
    count = services.create_count(site=store, name="月末盘点", actor=manager, **kw)
    return services.freeze_count(count=count, actor=manager)


def test_freeze_snapshots_every_nonzero_key_in_scope(admin, manager, store, bin_a, bin_b, sku):
    other = make_sku(admin)
    put(admin, store, sku, bin_a, 10_000)
    put(admin, store, other, bin_b, 4_000)
    count = started(manager, store)
    lines = {
        (ln.location_id, ln.sku_id): ln.snapshot_qty for ln in CountLine.objects.filter(count=count)
    }
    assert lines == {(bin_a.pk, sku.pk): 10_000, (bin_b.pk, other.pk): 4_000}
    assert count.status == CountStatus.COUNTING
    assert count.snapshot_move_id == StockMove.objects.order_by("-id").first().pk
    events = AuditEvent.objects.filter(object_id=str(count.pk), action__startswith="count.")
    assert [(e.from_state, e.to_state) for e in events.order_by("id")] == [
        ("", "draft"),
        ("draft", "counting"),
    ]


def test_zone_and_sku_scopes_limit_the_snapshot(admin, manager, store, sku):
    from chainstore.core.testing import make_bin

    zone = create_zone(site=store, code="Z1", name="冷藏区", actor=admin)
    in_zone = make_bin(admin, store, code="Z1-01", zone=zone)
    outside = make_bin(admin, store, code="X-01")
    other = make_sku(admin)
    put(admin, store, sku, in_zone, 5_000)
    put(admin, store, other, outside, 5_000)
    by_zone = started(manager, store, scope="zone", zone=zone)
    assert list(by_zone.lines.values_list("location_id", "sku_id")) == [(in_zone.pk, sku.pk)]
    by_sku = started(manager, store, scope="skus", skus=[other])
    assert list(by_sku.lines.values_list("location_id", "sku_id")) == [(outside.pk, other.pk)]
    with pytest.raises(OutOfCountScope):
        services.record_entry(
            count=by_zone, location=outside, sku=sku, quantity=1_000, actor=manager
        )
    with pytest.raises(OutOfCountScope):
        services.record_entry(
            count=by_sku, location=outside, sku=sku, quantity=1_000, actor=manager
        )
    assert CountEntry.objects.count() == 0


def test_entries_of_several_counters_add_up_and_replace_sets(
    admin, manager, counter, store, bin_a, sku
):
    put(admin, store, sku, bin_a, 10_000)
    count = started(manager, store)
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=4_000, actor=counter)
    line = services.record_entry(
        count=count, location=bin_a, sku=sku, quantity=5_000, actor=manager
    )
    assert line.counted_qty == 9_000
    assert line.expected_qty == 10_000
    assert line.variance == -1_000
    line = services.record_entry(
        count=count, location=bin_a, sku=sku, quantity=10_000, actor=counter, replace=True
    )
    assert line.counted_qty == 10_000
    assert line.variance == 0
    assert CountEntry.objects.filter(line=line).count() == 3


def test_moves_during_the_count_are_accounted_for(admin, manager, store, bin_a, sku):
    put(admin, store, sku, bin_a, 10_000)
    count = started(manager, store)
    inventory.issue(site=store, sku=sku, quantity=3_000, location=bin_a, actor=admin)
    line = services.record_entry(
        count=count, location=bin_a, sku=sku, quantity=6_000, actor=manager
    )
    assert line.expected_qty == 7_000
    assert line.variance == -1_000
    inventory.issue(site=store, sku=sku, quantity=2_000, location=bin_a, actor=admin)  # after count
    approved = services.approve_count(count=count, actor=manager, idempotency_key="k1")
    assert approved.status == CountStatus.APPROVED
    assert on_hand(bin_a, sku) == 4_000  # counted 6 minus 2 sold after the count
    assert approved.lines_counted == 1 and approved.lines_accurate == 0
    assert approved.loss_value_fen == 200  # 1 unit at 2.00 avg cost
    assert verify_ledger() == []


def test_found_stock_gets_a_line_and_is_posted_as_gain(admin, manager, store, bin_a, bin_b, sku):
    put(admin, store, sku, bin_a, 2_000)
    count = started(manager, store)
    line = services.record_entry(
        count=count, location=bin_b, sku=sku, quantity=3_000, actor=manager
    )
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=2_000, actor=manager)
    assert (line.in_snapshot, line.snapshot_qty, line.variance) == (False, 0, 3_000)
    approved = services.approve_count(count=count, actor=manager, idempotency_key="found")
    assert on_hand(bin_b, sku) == 3_000
    assert approved.gain_value_fen == 600
    assert count_summary(approved).accuracy == 0.5
    assert verify_ledger() == []


def test_recount_replaces_the_previous_count(admin, manager, store, bin_a, bin_b, sku):
    put(admin, store, sku, bin_a, 10_000)
    put(admin, store, sku, bin_b, 5_000)
    count = started(manager, store)
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=8_000, actor=manager)
    services.record_entry(count=count, location=bin_b, sku=sku, quantity=5_000, actor=manager)
    assert services.request_recount(count=count, actor=manager) == 1  # only the variance line
    line = CountLine.objects.get(count=count, location=bin_a)
    assert (line.counted_qty, line.previous_counted_qty, line.round, line.status) == (
        None,
        8_000,
        2,
        "recount",
    )
    with pytest.raises(CountIncomplete):
        services.approve_count(count=count, actor=manager, idempotency_key="early")
    line = services.record_entry(
        count=count, location=bin_a, sku=sku, quantity=10_000, actor=manager
    )
    assert (line.counted_qty, line.variance, line.recount) == (10_000, 0, False)
    with pytest.raises(NothingToRecount):
        services.request_recount(count=count, actor=manager)
    approved = services.approve_count(count=count, actor=manager, idempotency_key="ok")
    assert approved.operation is None  # nothing to post
    assert approved.lines_accurate == 2
    assert on_hand(bin_a, sku) == 10_000


def test_approval_posts_one_operation_and_is_idempotent(admin, manager, store, bin_a, bin_b, sku):
    other = make_sku(admin)
    put(admin, store, sku, bin_a, 10_000)
    put(admin, store, other, bin_b, 10_000)
    count = started(manager, store)
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=12_000, actor=manager)
    services.record_entry(count=count, location=bin_b, sku=other, quantity=9_500, actor=manager)
    ops_before = StockOperation.objects.count()
    first = services.approve_count(count=count, actor=manager, idempotency_key="approve-1")
    again = services.approve_count(count=count, actor=manager, idempotency_key="approve-1")
    assert again.pk == first.pk and again.replayed is True
    assert StockOperation.objects.count() == ops_before + 1
    op = first.operation
    assert op.kind == "count"
    moves = sorted((m.from_location.code, m.to_location.code, m.quantity) for m in op.moves.all())
    assert moves == [
        ("B-01", "VIRTUAL/ADJUSTMENT", 500),
        ("VIRTUAL/ADJUSTMENT", "A-01", 2_000),
    ]
    assert (on_hand(bin_a, sku), on_hand(bin_b, other)) == (12_000, 9_500)
    with pytest.raises(InvalidState):
        services.approve_count(count=count, actor=manager, idempotency_key="approve-2")
    assert StockOperation.objects.count() == ops_before + 1
    assert verify_ledger() == []


def test_loss_that_stock_no_longer_covers_is_refused_and_changes_nothing(
    admin, manager, store, bin_a, sku
):
    put(admin, store, sku, bin_a, 10_000)
    count = started(manager, store)
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=2_000, actor=manager)
    inventory.issue(site=store, sku=sku, quantity=9_000, location=bin_a, actor=admin)
    moves, audits = StockMove.objects.count(), AuditEvent.objects.count()
    with pytest.raises(CountStockChanged) as exc:
        services.approve_count(count=count, actor=manager, idempotency_key="k")
    assert exc.value.details["sku"] == sku.code
    count.refresh_from_db()
    assert count.status == CountStatus.COUNTING and count.approve_key is None
    assert on_hand(bin_a, sku) == 1_000
    assert (StockMove.objects.count(), AuditEvent.objects.count()) == (moves, audits)
    assert verify_ledger() == []


def test_state_refusals_change_nothing(admin, manager, store, bin_a, sku):
    put(admin, store, sku, bin_a, 1_000)
    draft = services.create_count(site=store, name="草稿", actor=manager)
    with pytest.raises(InvalidState):
        services.record_entry(count=draft, location=bin_a, sku=sku, quantity=1, actor=manager)
    with pytest.raises(InvalidState):
        services.approve_count(count=draft, actor=manager, idempotency_key="d")
    services.cancel_count(count=draft, actor=manager)
    with pytest.raises(InvalidState):
        services.freeze_count(count=draft, actor=manager)
    draft.refresh_from_db()
    assert draft.status == CountStatus.CANCELLED
    assert CountLine.objects.filter(count=draft).count() == 0
    assert CountEntry.objects.count() == 0


def test_lot_rules_when_recording(admin, manager, store, bin_a):
    lotted = make_sku(admin, tracking="lot")
    put(admin, store, lotted, bin_a, 3_000, lot="L1")
    count = started(manager, store)
    from chainstore.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.record_entry(count=count, location=bin_a, sku=lotted, quantity=1, actor=manager)
    assert exc.value.code == "lot_required"
    line = services.record_entry(
        count=count,
        location=bin_a,
        sku=lotted,
        lot=lotted.lots.get(),
        quantity=3_000,
        actor=manager,
    )
    assert line.variance == 0 and line.snapshot_qty == 3_000
    assert CountEntry.objects.count() == 1


def test_client_key_makes_an_entry_replay_safe(admin, manager, store, bin_a, sku):
    put(admin, store, sku, bin_a, 1_000)
    count = started(manager, store)
    for _ in range(2):
        line = services.record_entry(
            count=count, location=bin_a, sku=sku, quantity=700, actor=manager, client_key="scan-1"
        )
    assert line.counted_qty == 700
    assert CountEntry.objects.count() == 1
