"""Users, roles, site scope, passwords and API tokens: one transaction per use case.

Every change is refused unless the actor may `users.manage` (a user's own password and
tokens excepted), and every change writes an audit row with its from -> to state.
`actor=None` on `create_user` means the system itself (bootstrap, demo, tests).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chainstore.accounts.models import ApiToken, Profile
from chainstore.core import audit
from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.permissions import ADMIN, ROLES, ensure_can, role_of
from chainstore.sites.models import Site

User = get_user_model()

TOKEN_NAME_MAX = 100


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- users -----------------------------------------------------------------------------
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
    name: str = "",
) -> Any:
    """Create a login with a role and site scope. `actor=None` is the system (bootstrap)."""
    if actor is not None:
        ensure_can(actor, "users.manage")
    username = username.strip()
    _check_username(username)
    _check_role(role)
    email = _check_email(email)
    sites = _check_sites(site_ids)
    if actor is not None:
        _check_password(password, User(username=username, email=email, first_name=name))
    user = User.objects.create_user(
        username=username, password=password, email=email, first_name=name.strip()
    )
    _sync_admin_flags(user, role)
    profile = Profile.objects.create(user=user, role=role, all_sites=all_sites)
    profile.sites.set(sites)
    audit.record(
        actor=actor,
        action="user.create",
        obj=user,
        to_state=role,
        data={"sites": sorted(sites), "all_sites": all_sites},
    )
    return user


@transaction.atomic
def update_user_role_and_sites(
    *, user: Any, role: str, site_ids: Iterable[int], all_sites: bool, actor: Any
) -> Any:
    """Change a user's role and site scope; an admin cannot take away their own admin role."""
    ensure_can(actor, "users.manage")
    _check_role(role)
    sites = _check_sites(site_ids)
    if user.pk == actor.pk and role != ADMIN:
        raise PermissionDenied(
            _("You cannot remove your own administrator role."), code="cannot_demote_self"
        )
    profile, _created = Profile.objects.get_or_create(
        user=user, defaults={"role": role_of(user) or role}
    )
    before_role = role_of(user) or profile.role
    before_sites = sorted(profile.sites.values_list("pk", flat=True))
    before_all_sites = profile.all_sites
    profile.role = role
    profile.all_sites = all_sites
    profile.save(update_fields=["role", "all_sites"])
    profile.sites.set(sites)
    _sync_admin_flags(user, role)
    user.__dict__.pop("_chainstore_site_ids", None)
    audit.record(
        actor=actor,
        action="user.change_role",
        obj=user,
        from_state=before_role,
        to_state=role,
        data={
            "sites": {"from": before_sites, "to": sorted(sites)},
            "all_sites": {"from": before_all_sites, "to": all_sites},
        },
    )
    return user


@transaction.atomic
def deactivate_user(*, user: Any, actor: Any) -> int:
    """Block the login and revoke every live API token; returns how many were revoked."""
    ensure_can(actor, "users.manage")
    if user.pk == actor.pk:
        raise PermissionDenied(_("You cannot deactivate yourself."), code="cannot_deactivate_self")
    if not user.is_active:
        raise InvalidState(_("This user is already inactive."), code="user_inactive")
    user.is_active = False
    user.save(update_fields=["is_active"])
    live = ApiToken.objects.filter(user=user, revoked=False)
    revoked_ids = sorted(live.values_list("pk", flat=True))
    live.update(revoked=True)
    for token_id in revoked_ids:
        audit.record(
            actor=actor,
            action="token.revoke",
            object_type="accounts.apitoken",
            object_id=token_id,
            from_state="active",
            to_state="revoked",
        )
    audit.record(
        actor=actor,
        action="user.deactivate",
        obj=user,
        from_state="active",
        to_state="inactive",
        data={"tokens_revoked": len(revoked_ids)},
    )
    return len(revoked_ids)


@transaction.atomic
def reactivate_user(*, user: Any, actor: Any) -> Any:
    """Allow the login again; revoked tokens stay revoked."""
    ensure_can(actor, "users.manage")
    if user.is_active:
        raise InvalidState(_("This user is already active."), code="user_active")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor, action="user.reactivate", obj=user, from_state="inactive", to_state="active"
    )
    return user


@transaction.atomic
def update_user(
    *,
    user: Any,
    actor: Any,
    role: str | None = None,
    site_ids: Iterable[int] | None = None,
    all_sites: bool | None = None,
    active: bool | None = None,
) -> Any:
    """Apply a partial change (role, sites, active) all-or-nothing; None leaves a field as is."""
    ensure_can(actor, "users.manage")
    if role is not None or site_ids is not None or all_sites is not None:
        profile = Profile.objects.filter(user=user).first()
        current_sites = list(profile.sites.values_list("pk", flat=True)) if profile else []
        update_user_role_and_sites(
            user=user,
            role=role if role is not None else (role_of(user) or ""),
            site_ids=site_ids if site_ids is not None else current_sites,
            all_sites=all_sites if all_sites is not None else bool(profile and profile.all_sites),
            actor=actor,
        )
    if active is not None and active != user.is_active:
        if active:
            reactivate_user(user=user, actor=actor)
        else:
            deactivate_user(user=user, actor=actor)
    return user


# -- passwords -------------------------------------------------------------------------
@transaction.atomic
def reset_password(*, user: Any, new_password: str, actor: Any) -> Any:
    """An administrator sets a new password for someone (e.g. a forgotten one)."""
    ensure_can(actor, "users.manage")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(actor=actor, action="user.reset_password", obj=user, to_state="reset")
    return user


@transaction.atomic
def change_own_password(*, user: Any, old_password: str, new_password: str) -> Any:
    """The signed-in user changes their own password, proving the old one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(code="not_authenticated")
    if not user.check_password(old_password):
        raise ValidationFailed(
            _("Your current password is not correct."), code="wrong_password", field="old_password"
        )
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(actor=user, action="user.change_password", obj=user, to_state="changed")
    return user


# -- API tokens ------------------------------------------------------------------------
@transaction.atomic
def issue_token(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain secret is returned once and never stored."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(code="not_authenticated")
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_MAX:
        raise ValidationFailed(
            _("Give the token a name of 1 to %(max)s characters.") % {"max": TOKEN_NAME_MAX},
            code="invalid_token_name",
            field="name",
        )
    secret = "cs_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], digest=_digest(secret)
    )
    audit.record(actor=user, action="token.issue", obj=token, to_state="active")
    return token, secret


@transaction.atomic
def revoke_token(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revoke your own token, or anyone's with `users.manage`. Revoking twice is a no-op."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(code="not_authenticated")
    if token.user_id != actor.pk:
        ensure_can(actor, "users.manage")
    changed = ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True)
    token.revoked = True
    if changed:
        audit.record(
            actor=actor, action="token.revoke", obj=token, from_state="active", to_state="revoked"
        )
    return token


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


# -- checks ----------------------------------------------------------------------------
def _check_username(username: str) -> None:
    if not username:
        raise ValidationFailed(_("Enter a username."), code="invalid_username", field="username")
    try:
        User.username_validator(username)
    except DjangoValidationError:
        raise ValidationFailed(
            _("A username may contain only letters, digits and @ . + - _ characters."),
            code="invalid_username",
            field="username",
            username=username,
        ) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(
            _("This username is taken."), code="username_taken", field="username", username=username
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(
            _("Unknown role %(role)s.") % {"role": role}, code="unknown_role", role=role
        )


def _check_email(email: str) -> str:
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ValidationFailed(
                _("Enter a valid email address."), code="invalid_email", field="email"
            ) from None
    return email


def _check_sites(site_ids: Iterable[int]) -> list[int]:
    wanted = {int(pk) for pk in site_ids}
    found = set(Site.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed(
            _("Unknown sites: %(ids)s") % {"ids": ", ".join(map(str, missing))},
            code="unknown_site",
            field="sites",
            site_ids=missing,
        )
    return sorted(found)


def _check_password(password: str, user: Any) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        messages = [_password_message(error) for error in exc.error_list]
        raise ValidationFailed(
            " ".join(messages), code="weak_password", field="password", errors=messages
        ) from None


def _password_message(error: DjangoValidationError) -> str:
    # Django 5.2 reworded this message and its zh_Hans catalog lags behind: say it ourselves.
    if error.code == "password_too_short" and error.params:
        minimum = int(error.params["min_length"])
        return ngettext(
            "The password must have at least %(count)d character.",
            "The password must have at least %(count)d characters.",
            minimum,
        ) % {"count": minimum}
    return " ".join(str(m) for m in error.messages)


def _sync_admin_flags(user: Any, role: str) -> None:
    """The admin role is Django's superuser (role_of trusts it); other roles are not."""
    is_admin = role == ADMIN
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = is_admin
        user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])
