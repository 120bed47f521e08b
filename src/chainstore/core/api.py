# No `from __future__ import annotations` here: ninja must see Query[...] as a real type.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from chainstore.core.models import AuditEvent
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.selectors import list_audit_events

router = Router()


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor: str | None
    action: str
    object_type: str
    object_id: str
    from_state: str
    to_state: str
    site_id: int | None
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor.get_username() if obj.actor else None


class AuditFilter(Schema):
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    site_id: int | None = None


@router.get("/events", response=list[AuditOut])
@paginate(LimitOffsetPagination)
def audit_events(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    """Who did what, when, from which state to which (auditor, admin, HQ planner)."""
    return list_audit_events(actor=request.user, **filters.dict())
