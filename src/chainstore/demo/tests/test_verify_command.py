import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from chainstore.core import testing
from chainstore.inventory.models import Balance, SiteSku


def _verify():
    out = io.StringIO()
    call_command("verify", stdout=out)
    return out.getvalue()


@pytest.fixture
def stocked(admin, store):
    sku = testing.make_sku(admin)
    testing.stock(admin, store, sku, 5000)
    return sku


@pytest.mark.django_db
def test_verify_passes_on_a_true_ledger(stocked):
    output = _verify()

    assert "OK" in output
    assert "Checked 1 moves against 1 balance keys, 1 site totals" in output


@pytest.mark.django_db
def test_verify_exits_1_with_a_table_when_a_balance_is_tampered_with(stocked, store):
    Balance.objects.filter(sku=stocked).update(on_hand=F("on_hand") + 1000)
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("verify", stdout=out)

    assert failure.value.returncode == 1
    assert "2 ledger difference(s)" in str(failure.value)
    table = out.getvalue()
    assert "balance_on_hand" in table
    assert "site_total" in table
    assert "6000" in table  # the tampered balance, next to the ledger's 5000
    assert Balance.objects.get(sku=stocked).on_hand == 6000  # verify only reads


@pytest.mark.django_db
def test_verify_reports_a_site_total_that_drifted(stocked, store):
    SiteSku.objects.filter(site=store, sku=stocked).update(on_hand=1)

    with pytest.raises(CommandError) as failure:
        call_command("verify", stdout=io.StringIO())

    assert failure.value.returncode == 1
    assert "1 ledger difference(s)" in str(failure.value)
