"""Accounts test helpers."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from chainstore.accounts.models import ApiToken, Profile
from chainstore.core.models import AuditEvent

User = get_user_model()


@dataclass(frozen=True)
class AccountsSnapshot:
    users: tuple[tuple[Any, ...], ...]
    profiles: tuple[tuple[Any, ...], ...]
    tokens: tuple[tuple[Any, ...], ...]
    audit_events: int


def accounts_snapshot() -> AccountsSnapshot:
    """Everything a refused accounts request must leave untouched."""
    return AccountsSnapshot(
        users=tuple(
            User.objects.order_by("pk").values_list(
                "pk", "username", "password", "email", "is_active", "is_superuser"
            )
        ),
        profiles=tuple(
            (p.pk, p.user_id, p.role, p.all_sites, tuple(sorted(s.pk for s in p.sites.all())))
            for p in Profile.objects.order_by("pk").prefetch_related("sites")
        ),
        tokens=tuple(ApiToken.objects.order_by("pk").values_list("pk", "digest", "revoked")),
        audit_events=AuditEvent.objects.count(),
    )
