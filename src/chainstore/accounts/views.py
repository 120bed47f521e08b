"""User administration, API tokens and password pages. Thin: reads go through selectors,
writes through services; refusals become messages or form errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from chainstore.accounts import selectors, services
from chainstore.accounts.forms import (
    ChangePasswordForm,
    ResetPasswordForm,
    RoleSitesForm,
    TokenForm,
    UserCreateForm,
    attach_error,
)
from chainstore.accounts.models import ROLE_CHOICES, Profile
from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can, role_of, scope_site_ids
from chainstore.sites.selectors import list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate

ROLE_LABELS = dict(ROLE_CHOICES)


# -- users -----------------------------------------------------------------------------
@page_view
def index(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "users.manage")
    sites = list(list_sites(actor=request.user))
    search = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    role = role if role in ROLE_LABELS else ""
    status = request.GET.get("status", "")
    status = status if status in selectors.STATUSES else ""
    code = request.GET.get("site", "").strip()
    site = next((s for s in sites if s.code == code), None)
    users = selectors.list_users(
        actor=request.user, search=search, role=role, site=site, status=status
    )
    page = paginate(request, users)
    context = {
        "page": page,
        "rows": [_row(u) for u in page.object_list],
        "search": search,
        "role": role,
        "roles": ROLE_CHOICES,
        "status": status,
        "sites": sites,
        "site": site,
    }
    return render(request, "accounts/user_list.html", context)


def _row(user: Any) -> dict[str, Any]:
    profile = getattr(user, "profile", None)
    role = role_of(user)
    return {
        "user": user,
        "role": ROLE_LABELS.get(role or "", role or "—"),
        "scope_all": _all_sites(user),
        "sites": sorted(profile.sites.all(), key=lambda s: s.code) if profile else [],
    }


def _all_sites(user: Any) -> bool:
    return role_of(user) is not None and scope_site_ids(user) is None


@page_view
def create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "users.manage")
    sites = list_sites(actor=request.user)
    form = UserCreateForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                username=data["username"],
                name=data["name"],
                email=data["email"],
                role=data["role"],
                all_sites=data["all_sites"],
                site_ids=[s.pk for s in data["sites"]],
                password=data["password"],
                actor=request.user,
            )
        except DomainError as exc:
            attach_error(form, exc, describe(exc))
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.username})
            return redirect("accounts:detail", user_id=user.pk)
    return render(request, "accounts/user_create.html", {"form": form})


@page_view
def detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = selectors.get_user(actor=request.user, user_id=user_id)
    return _detail(request, user)


def _detail(
    request: HttpRequest,
    user: Any,
    *,
    role_form: RoleSitesForm | None = None,
    password_form: ResetPasswordForm | None = None,
    status: int = 200,
) -> HttpResponse:
    sites = list_sites(actor=request.user)
    profile = Profile.objects.filter(user=user).first()
    if role_form is None:
        role_form = RoleSitesForm(
            initial={
                "role": role_of(user),
                "all_sites": bool(profile and profile.all_sites),
                "sites": list(profile.sites.all()) if profile else [],
            },
            sites=sites,
        )
    context = {
        "subject": user,
        "role_label": ROLE_LABELS.get(role_of(user) or "", role_of(user) or "—"),
        "scope_all": _all_sites(user),
        "assigned_sites": list(profile.sites.order_by("code")) if profile else [],
        "role_form": role_form,
        "password_form": password_form or ResetPasswordForm(),
        "tokens": list(selectors.list_tokens(actor=request.user, user=user)),
        "is_self": user.pk == request.user.pk,
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@require_POST
@page_view
def update_role(request: HttpRequest, user_id: int) -> HttpResponse:
    user = selectors.get_user(actor=request.user, user_id=user_id)
    form = RoleSitesForm(request.POST, sites=list_sites(actor=request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_user_role_and_sites(
                user=user,
                role=data["role"],
                site_ids=[s.pk for s in data["sites"]],
                all_sites=data["all_sites"],
                actor=request.user,
            )
        except DomainError as exc:
            attach_error(form, exc, describe(exc))
        else:
            messages.success(request, _("Role and sites saved."))
            return redirect("accounts:detail", user_id=user.pk)
    return _detail(request, user, role_form=form, status=422)


@require_POST
@page_view
def set_active(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    user = selectors.get_user(actor=request.user, user_id=user_id)
    try:
        if action == "deactivate":
            revoked = services.deactivate_user(user=user, actor=request.user)
            messages.success(
                request,
                _("%(name)s deactivated; %(count)s API token(s) revoked.")
                % {"name": user.username, "count": revoked},
            )
        else:
            services.reactivate_user(user=user, actor=request.user)
            messages.success(request, _("%(name)s reactivated.") % {"name": user.username})
    except DomainError as exc:
        messages.error(request, describe(exc))
    return redirect("accounts:detail", user_id=user.pk)


@require_POST
@page_view
def reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    user = selectors.get_user(actor=request.user, user_id=user_id)
    form = ResetPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.reset_password(
                user=user, new_password=form.cleaned_data["new_password1"], actor=request.user
            )
        except DomainError as exc:
            attach_error(form, exc, describe(exc))
        else:
            if user.pk == request.user.pk:
                update_session_auth_hash(request, user)
            messages.success(request, _("Password reset for %(name)s.") % {"name": user.username})
            return redirect("accounts:detail", user_id=user.pk)
    return _detail(request, user, password_form=form, status=422)


# -- API tokens ------------------------------------------------------------------------
@never_cache
@page_view
def tokens(request: HttpRequest) -> HttpResponse:
    """Your tokens; POST issues one and shows its secret in this one response only."""
    form = TokenForm(request.POST or None)
    secret = None
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_token, secret = services.issue_token(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except DomainError as exc:
                attach_error(form, exc, describe(exc))
            else:
                form = TokenForm()
        if secret is None:
            status = 422
    context = {
        "form": form,
        "secret": secret,
        "new_token": new_token,
        "tokens": list(selectors.list_tokens(actor=request.user)),
    }
    return render(request, "accounts/tokens.html", context, status=status)


@require_POST
@page_view
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.get_token(actor=request.user, token_id=token_id)
    try:
        services.revoke_token(token=token, actor=request.user)
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("accounts:tokens")


# -- own password ----------------------------------------------------------------------
@page_view
def change_password(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            attach_error(form, exc, describe(exc))
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:change_password")
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/change_password.html", {"form": form}, status=status)
