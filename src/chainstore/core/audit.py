"""Explicit audit rows, written by services in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from django.db import models as dj_models

from chainstore.core.models import AuditEvent


def record(
    *,
    actor: Any,
    action: str,
    obj: dj_models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    from_state: str = "",
    to_state: str = "",
    site_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        from_state=from_state,
        to_state=to_state,
        site_id=site_id,
        data=data or {},
    )
