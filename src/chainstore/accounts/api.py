from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from chainstore.accounts.services import issue_token
from chainstore.core.permissions import role_of, scope_site_ids

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
    token, secret = issue_token(user=request.user, name=payload.name)
    return Status(201, TokenOut(id=token.pk, name=token.name, token=secret))
