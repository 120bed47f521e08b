import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chainstore.core.audit import seal_trail, verify_trail
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_sku

pytestmark = pytest.mark.django_db


def test_sealed_trail_verifies_and_detects_an_altered_event(admin):
    make_sku(admin)
    make_sku(admin)
    events = AuditEvent.objects.count()
    assert seal_trail() == events
    assert verify_trail() == []
    call_command("audit", "verify")

    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=victim.pk).update(to_state="tampered")

    problems = verify_trail()
    assert problems == [f"event {victim.pk} (seq {victim.seal_seq}) was altered"]
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_sealing_is_incremental_and_deletion_is_detected(admin):
    make_sku(admin)
    first = seal_trail()
    make_sku(admin)
    second = seal_trail()
    assert first > 0 and second > 0
    assert seal_trail() == 0
    assert verify_trail() == []

    AuditEvent.objects.order_by("-seal_seq").first().delete()
    assert verify_trail() == ["sealed events were deleted after the last seal"]
