from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from chainstore.accounts import selectors, services
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.permissions import role_of, scope_site_ids
from chainstore.sites.models import Site

router = Router()


class MeOut(Schema):
    username: str
    role: str | None
    site_ids: list[int] | None


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    token: str


class TokenInfoOut(Schema):
    """A token without its secret: the secret is only shown once, when it is issued."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


class UserOut(Schema):
    username: str
    name: str
    email: str
    role: str | None
    all_sites: bool
    site_ids: list[int]
    is_active: bool
    date_joined: dt.datetime
    last_login: dt.datetime | None

    @staticmethod
    def resolve_name(user: Any) -> str:
        return str(user.get_full_name())

    @staticmethod
    def resolve_role(user: Any) -> str | None:
        return role_of(user)

    @staticmethod
    def resolve_all_sites(user: Any) -> bool:
        profile = getattr(user, "profile", None)
        return bool(profile and profile.all_sites)

    @staticmethod
    def resolve_site_ids(user: Any) -> list[int]:
        profile = getattr(user, "profile", None)
        return sorted(s.pk for s in profile.sites.all()) if profile else []


class UserIn(Schema):
    username: str
    password: str
    role: str
    name: str = ""
    email: str = ""
    site_ids: list[int] = []
    all_sites: bool = False


class UserPatch(Schema):
    """Only the fields sent are changed; the change is all-or-nothing."""

    role: str | None = None
    site_ids: list[int] | None = None
    all_sites: bool | None = None
    active: bool | None = None


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    ids = scope_site_ids(request.user)
    return MeOut(
        username=request.user.get_username(),
        role=role_of(request.user),
        site_ids=sorted(ids) if ids is not None else None,
    )


@router.post("/tokens", response={201: TokenOut})
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    """Issue an API token for yourself; the secret is shown once."""
    token, secret = services.issue_token(user=request.user, name=payload.name)
    return Status(201, TokenOut(id=token.pk, name=token.name, token=secret))


@router.get("/tokens", response=list[TokenInfoOut])
def list_tokens(request: HttpRequest) -> Any:
    """Your own API tokens, newest first (never their secrets)."""
    return list(selectors.list_tokens(actor=request.user))


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    """Revoke one of your tokens (administrators: anyone's). Revoking twice is harmless."""
    token = selectors.get_token(actor=request.user, token_id=token_id)
    services.revoke_token(token=token, actor=request.user)
    return Status(204, None)


@router.get("/users", response=list[UserOut])
@paginate(LimitOffsetPagination)
def list_users(
    request: HttpRequest, search: str = "", role: str = "", site: str = "", status: str = ""
) -> Any:
    """Administrators: users, filtered by text, role, site code (scope) and active/inactive."""
    site_obj = Site.objects.filter(code=site).first() if site else None
    if site and site_obj is None:
        return []
    users = selectors.list_users(
        actor=request.user, search=search, role=role, site=site_obj, status=status
    )
    return users


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserIn) -> Status:
    """Administrators: create a login with a role and site scope."""
    user = services.create_user(actor=request.user, **payload.dict())
    return Status(201, selectors.get_user(actor=request.user, user_id=user.pk))


@router.patch("/users/{username}", response=UserOut)
def update_user(request: HttpRequest, username: str, payload: UserPatch) -> Any:
    """Administrators: change role, sites and/or active; deactivating revokes the user's tokens."""
    user = selectors.get_user(actor=request.user, username=username)
    services.update_user(user=user, actor=request.user, **payload.dict())
    return selectors.get_user(actor=request.user, username=username)
