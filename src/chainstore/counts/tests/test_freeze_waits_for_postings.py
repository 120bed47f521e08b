"""PostgreSQL: a count's snapshot waits for postings in flight at the site, including a
first receipt of a SKU whose SiteSku row the count cannot see yet; otherwise that receipt
would commit below the count's mark and the count would add its units a second time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.counts import services as counts
from chainstore.inventory import posting as posting_module
from chainstore.inventory.models import SiteSku
from chainstore.inventory.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_freeze_waits_for_an_in_flight_first_receipt(monkeypatch):
    admin = make_user("admin")
    site = make_site(admin, "store")
    new_sku, other = make_sku(admin), make_sku(admin)
    stock(admin, site, other, 1_000, location=site.stock_location)
    paused, resume = threading.Event(), threading.Event()
    finish = posting_module.Posting.finish

    def slow_finish(self):
        created = finish(self)
        if threading.current_thread().name == "receiver":
            paused.set()
            resume.wait(30)
        return created

    monkeypatch.setattr(posting_module.Posting, "finish", slow_finish)
    frozen: list = []

    def receive() -> None:
        try:
            stock(admin, site, new_sku, 5_000, location=site.stock_location)
        finally:
            connection.close()

    def freeze() -> None:
        try:
            count = counts.create_count(site=site, name="盘点", actor=admin)
            frozen.append(counts.freeze_count(count=count, actor=admin))
        finally:
            connection.close()

    receiver = threading.Thread(target=receive, name="receiver")
    receiver.start()
    assert paused.wait(30)
    freezer = threading.Thread(target=freeze)
    freezer.start()
    freezer.join(1.0)
    assert freezer.is_alive(), "the snapshot must wait for the receipt in flight"
    resume.set()
    receiver.join(30)
    freezer.join(30)
    count = frozen[0]

    counts.record_entry(
        count=count, location=site.stock_location, sku=new_sku, quantity=5_000, actor=admin
    )
    counts.record_entry(
        count=count, location=site.stock_location, sku=other, quantity=1_000, actor=admin
    )
    counts.approve_count(count=count, actor=admin, idempotency_key="approve-1")

    assert SiteSku.objects.get(site=site, sku=new_sku).on_hand == 5_000
    assert SiteSku.objects.get(site=site, sku=other).on_hand == 1_000
    assert verify_ledger() == []
