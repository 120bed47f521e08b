"""Short-sale discrepancies: list (store scope), recount through a frozen SKU-set count,
resolved when that count is approved (reopened if it is cancelled)."""

import pytest

from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.tests.helpers import on_hand
from chainstore.counts.models import CountStatus, StockCount
from chainstore.counts.services import approve_count, cancel_count, record_entry
from chainstore.inventory.verify import negative_store_stock, verify_ledger
from chainstore.pos.models import StockDiscrepancy
from chainstore.pos.selectors_reports import list_discrepancies
from chainstore.pos.services import discrepancies, shifts
from chainstore.pos.tests.returns_world import add_sku, make_world, post, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = make_world(admin)
    add_sku(w, "牛奶", 1_250, quantity=1_000)
    add_sku(w, "面包", 800, quantity=0)
    add_sku(w, "可乐", 300, quantity=10_000)
    shifts.open_shift(store=w.store, till=w.tills[0], opening_float_fen=0, actor=w.cashier)
    return w


def _short_sales(world):
    """Sell 3 milk (1 on the books) and 2 bread (none): two discrepancies."""
    milk, bread = world.skus["牛奶"], world.skus["面包"]
    sale = sell(world, world.tills[0], world.cashier, [(milk, 3), (bread, 2)])
    rows = {d.sku_id: d for d in StockDiscrepancy.objects.filter(sale=sale)}
    return rows[milk.pk], rows[bread.pk]


def test_short_sale_discrepancies_are_listed_in_the_store_scope(world, admin):
    milk_d, bread_d = _short_sales(world)
    other = make_world(admin)

    listed = list(list_discrepancies(actor=world.manager, store=world.store, status="open"))

    assert [d.pk for d in listed] == [bread_d.pk, milk_d.pk]  # newest first
    assert (milk_d.short_quantity, bread_d.short_quantity) == (2_000, 2_000)
    assert list(list_discrepancies(actor=other.manager)) == []
    with pytest.raises(PermissionDenied):
        list_discrepancies(actor=world.cashier, store=world.store)
    with pytest.raises(PermissionDenied):
        list_discrepancies(actor=other.manager, store=world.store)


def test_recount_starts_a_frozen_sku_count_and_approval_resolves(world):
    milk_d, bread_d = _short_sales(world)
    milk = world.skus["牛奶"]
    selling = world.store.stock_location
    assert on_hand(selling, milk) == -2_000

    count = discrepancies.start_recount(discrepancies=[milk_d], actor=world.manager)

    assert count.status == CountStatus.COUNTING
    assert list(count.skus.all()) == [milk]
    milk_d.refresh_from_db()
    bread_d.refresh_from_db()
    assert (milk_d.status, milk_d.count_id) == ("counting", count.pk)
    assert (bread_d.status, bread_d.count_id) == ("open", None)
    assert AuditEvent.objects.filter(action="pos.discrepancy.recount").count() == 1

    # Not approved yet: nothing to resolve, and resolving on demand is refused.
    assert discrepancies.resolve_counted_discrepancies(actor=world.manager) == 0
    with pytest.raises(InvalidState) as exc:
        discrepancies.resolve_discrepancy(discrepancy=milk_d, actor=world.manager)
    assert exc.value.code == "recount_not_approved"

    # The shelf really holds 4 (the books said -2): count and approve.
    record_entry(count=count, location=selling, sku=milk, quantity=4_000, actor=world.manager)
    approve_count(count=count, actor=world.manager, idempotency_key="approve-1")

    assert discrepancies.resolve_counted_discrepancies(actor=world.manager) == 1
    milk_d.refresh_from_db()
    assert milk_d.status == "resolved" and milk_d.resolved_at is not None
    assert on_hand(selling, milk) == 4_000
    assert discrepancies.resolve_counted_discrepancies(actor=world.manager) == 0  # idempotent
    assert AuditEvent.objects.filter(action="pos.discrepancy.resolve").count() == 1
    # Bread was not recounted: still negative, still awaiting its recount.
    assert [d.key[1] for d in negative_store_stock()] == [world.skus["面包"].pk]
    assert verify_ledger() == []


def test_recount_of_several_and_every_open_one_of_the_sku_joins(world):
    milk_d, bread_d = _short_sales(world)
    milk_again, _bread_again = _short_sales(world)

    count = discrepancies.start_recount(discrepancies=[milk_d, bread_d], actor=world.manager)

    assert {s.code for s in count.skus.all()} == {
        world.skus["牛奶"].code,
        world.skus["面包"].code,
    }
    assert set(StockDiscrepancy.objects.filter(count_id=count.pk).values_list("pk", flat=True)) == {
        milk_d.pk,
        bread_d.pk,
        milk_again.pk,
        _bread_again.pk,
    }
    with pytest.raises(InvalidState) as exc:  # already being counted
        discrepancies.start_recount(discrepancies=[milk_d], actor=world.manager)
    assert exc.value.code == "discrepancy_not_open"
    assert StockCount.objects.count() == 1


def test_a_cancelled_recount_reopens_the_discrepancy(world):
    milk_d, _bread_d = _short_sales(world)
    count = discrepancies.start_recount(discrepancies=[milk_d], actor=world.manager)

    cancel_count(count=count, actor=world.manager)

    assert discrepancies.resolve_counted_discrepancies(actor=world.manager, store=world.store) == 1
    milk_d.refresh_from_db()
    assert (milk_d.status, milk_d.count_id) == ("open", None)


def test_recount_permission_and_input(world, admin):
    milk_d, _bread_d = _short_sales(world)
    other = make_world(admin)
    before = (StockCount.objects.count(), AuditEvent.objects.count())
    with pytest.raises(PermissionDenied):
        discrepancies.start_recount(discrepancies=[milk_d], actor=world.cashier)
    with pytest.raises(PermissionDenied):
        discrepancies.start_recount(discrepancies=[milk_d], actor=other.manager)
    with pytest.raises(ValidationFailed):
        discrepancies.start_recount(discrepancies=[], actor=world.manager)
    assert (StockCount.objects.count(), AuditEvent.objects.count()) == before
    milk_d.refresh_from_db()
    assert milk_d.status == "open"


def test_discrepancy_api(world, client):
    milk_d, bread_d = _short_sales(world)
    client.force_login(world.manager)
    base = "/api/v1/pos/discrepancies"

    r = client.get(base, {"store": world.store.code, "status": "open"})
    assert r.status_code == 200, r.content
    assert [d["id"] for d in r.json()["items"]] == [bread_d.pk, milk_d.pk]
    assert r.json()["items"][1]["short_quantity"] == "2.000"

    r = post(client, f"{base}/{milk_d.pk}/recount")
    assert r.status_code == 200, r.content
    count_id = r.json()["count_id"]
    assert r.json()["count_status"] == "counting"
    assert [d["id"] for d in r.json()["discrepancies"]] == [milk_d.pk]

    r = post(client, f"{base}/{milk_d.pk}/resolve")
    assert (r.status_code, r.json()["code"]) == (409, "recount_not_approved")

    count = StockCount.objects.get(pk=count_id)
    milk = world.skus["牛奶"]
    record_entry(
        count=count, location=world.store.stock_location, sku=milk, quantity=0, actor=world.manager
    )
    approve_count(count=count, actor=world.manager, idempotency_key="approve-api")
    # Listing resolves what the approved count answered.
    r = client.get(base, {"store": world.store.code, "status": "resolved"})
    assert [d["id"] for d in r.json()["items"]] == [milk_d.pk]

    r = post(client, f"{base}/recount", {"discrepancies": [bread_d.pk]})
    assert r.status_code == 200, r.content

    client.force_login(world.cashier)
    r = client.get(base, {"store": world.store.code})
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
