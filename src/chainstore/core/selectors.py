from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from chainstore.core.models import AuditEvent
from chainstore.core.permissions import ensure_can, scope_site_ids


def list_audit_events(
    *,
    actor: Any,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    site_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first; auditors and admins see every site, others their own."""
    ensure_can(actor, "audit.view", sites=[site_id] if site_id else [])
    qs = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(Q(site_id__in=allowed) | Q(site_id__isnull=True))
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if site_id:
        qs = qs.filter(site_id=site_id)
    return qs
