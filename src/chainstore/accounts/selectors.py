"""Reads for user administration and API tokens, scoped by the actor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from chainstore.accounts.models import ApiToken
from chainstore.core.errors import NotFound
from chainstore.core.permissions import ADMIN, ALL_SITES_ROLES, ensure_can, has_perm
from chainstore.sites.models import Site

User = get_user_model()

STATUSES = ("active", "inactive")


def list_users(
    *, actor: Any, search: str = "", role: str = "", site: Site | None = None, status: str = ""
) -> QuerySet[Any]:
    """Users for administration. `site` keeps those whose scope includes the site
    (assigned to it, or all sites); `status` is "active", "inactive" or "" for both."""
    ensure_can(actor, "users.manage")
    qs = (
        User.objects.select_related("profile")
        .prefetch_related("profile__sites")
        .order_by("username")
    )
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    if role == ADMIN:
        qs = qs.filter(Q(profile__role=ADMIN) | Q(is_superuser=True))
    elif role:
        qs = qs.filter(profile__role=role, is_superuser=False)
    if site is not None:
        qs = qs.filter(
            Q(profile__sites=site)
            | Q(profile__all_sites=True)
            | Q(profile__role__in=ALL_SITES_ROLES)
            | Q(is_superuser=True)
        ).distinct()
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    return qs


def get_user(*, actor: Any, username: str = "", user_id: int | None = None) -> Any:
    ensure_can(actor, "users.manage")
    lookup = {"pk": user_id} if user_id is not None else {"username": username}
    user = User.objects.select_related("profile").filter(**lookup).first()
    if user is None:
        raise NotFound(_("User not found."), code="user_not_found", username=username)
    return user


def list_tokens(*, actor: Any, user: Any = None) -> QuerySet[ApiToken]:
    """A user's API tokens, newest first: your own, or anyone's with `users.manage`."""
    user = actor if user is None else user
    if user.pk != getattr(actor, "pk", None) or not getattr(actor, "is_authenticated", False):
        ensure_can(actor, "users.manage")
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def get_token(*, actor: Any, token_id: int) -> ApiToken:
    """One token the actor may see; another user's token is "not found" without users.manage."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    visible = token is not None and (
        token.user_id == getattr(actor, "pk", None) or has_perm(actor, "users.manage")
    )
    if token is None or not visible:
        raise NotFound(_("Token not found."), code="token_not_found", token_id=token_id)
    return token
