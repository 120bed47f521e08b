from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chainstore.accounts.models import ApiToken, Profile
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ROLES

User = get_user_model()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    site_ids: Iterable[int] = (),
    all_sites: bool = False,
    actor: Any = None,
    email: str = "",
) -> Any:
    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}.", code="unknown_role", role=role)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed("This username is taken.", code="username_taken", username=username)
    user = User.objects.create_user(username=username, password=password, email=email)
    if role == "admin":
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    profile = Profile.objects.create(user=user, role=role, all_sites=all_sites)
    profile.sites.set(list(site_ids))
    audit.record(actor=actor, action="user.create", obj=user, to_state=role)
    return user


@transaction.atomic
def issue_token(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain secret is returned once and never stored."""
    secret = "cs_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], digest=_digest(secret)
    )
    audit.record(actor=user, action="token.issue", obj=token, to_state="active")
    return token, secret


def authenticate_token(secret: str) -> Any | None:
    token = (
        ApiToken.objects.select_related("user", "user__profile")
        .filter(digest=_digest(secret), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
