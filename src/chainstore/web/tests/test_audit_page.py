import pytest
from django.urls import reverse

from chainstore.core import testing
from chainstore.core.audit import seal_trail
from chainstore.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_auditor_sees_stock_events_and_the_seal_status(client, chain):
    auditor = testing.make_user("auditor")
    client.force_login(auditor)
    sealed = seal_trail()

    response = client.get(reverse("audit_trail"), {"action": "stock.receipt"})

    assert response.status_code == 200
    events = list(response.context["page"])
    assert events and all(e.action == "stock.receipt" for e in events)
    assert len(events) == AuditEvent.objects.filter(action="stock.receipt").count()
    assert response.context["seal"].last_seq == sealed


def test_verify_link_reports_an_altered_event(client, chain):
    client.force_login(testing.make_user("auditor"))
    seal_trail()
    assert client.get(reverse("audit_trail"), {"verify": "1"}).context["chain_problems"] == []

    victim = AuditEvent.objects.order_by("id").first()
    AuditEvent.objects.filter(pk=victim.pk).update(action="forged")

    problems = client.get(reverse("audit_trail"), {"verify": "1"}).context["chain_problems"]
    assert problems == [f"event {victim.pk} (seq {victim.seal_seq}) was altered"]


@pytest.mark.parametrize("who", ["manager_a", "cashier_a"])
def test_roles_without_audit_view_get_403_and_no_menu_entry(client, chain, who):
    client.force_login(getattr(chain, who))
    assert client.get(reverse("audit_trail")).status_code == 403
    dashboard = client.get(reverse("dashboard"))
    assert reverse("audit_trail") not in dashboard.content.decode()
