"""Member pages: tiers (pos.promotions), members list/search, enrol, edit and the member's
points ledger and receipts (pos.member_records); cashiers enrol (pos.members)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.pos import selectors_admin as selectors
from chainstore.pos.forms import MemberForm, TierForm
from chainstore.pos.services import admin, admin_stores
from chainstore.pos.views.admin_common import form_page, refuse
from chainstore.web.http import page_view, paginate


# -- tiers ---------------------------------------------------------------------------------
@page_view
def tier_list(request: HttpRequest) -> HttpResponse:
    """The tiers, and a form to add one."""
    ensure_can(request.user, "pos.promotions")
    form = TierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tier = admin.create_member_tier(
                code=form.cleaned_data["code"], data=form.tier_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Member tier %(name)s created.") % {"name": tier.name})
            return redirect("pos:member_tiers")
    context = {"form": form, "tiers": selectors.list_member_tiers(actor=request.user)}
    return form_page(request, "pos/admin/tier_list.html", context)


@page_view
def tier_edit(request: HttpRequest, code: str) -> HttpResponse:
    tier = selectors.get_member_tier(actor=request.user, code=code)
    initial = {"name": tier.name, "rank": tier.rank, "points_per_yuan": tier.points_per_yuan}
    form = TierForm(request.POST or None, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            admin.update_member_tier(tier=tier, data=form.tier_input(), actor=request.user)
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Member tier %(name)s saved.") % {"name": tier.name})
            return redirect("pos:member_tiers")
    return form_page(request, "pos/admin/tier_form.html", {"form": form, "tier": tier})


# -- members -------------------------------------------------------------------------------
@page_view
def member_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    tier = request.GET.get("tier", "")
    members = selectors.list_members(actor=request.user, search=search, tier=tier)
    context = {
        "page": paginate(request, members),
        "search": search,
        "tier": tier,
        "tiers": selectors.list_member_tiers(actor=request.user),
    }
    return render(request, "pos/admin/member_list.html", context)


@page_view
def member_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "pos.members")
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = admin_stores.enroll(
                data=form.member_input(),
                card_number=form.cleaned_data["card_number"],
                actor=request.user,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Member %(card)s enrolled.") % {"card": member.card_number})
            if has_perm(request.user, "pos.member_records"):
                return redirect("pos:member_detail", pk=member.pk)
            return redirect("pos:member_create")  # a cashier: the next enrolment
    return form_page(request, "pos/admin/member_form.html", {"form": form, "member": None})


@page_view
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member(actor=request.user, member_id=pk)
    context = {
        "member": member,
        "points": paginate(request, selectors.member_points(member), 20),
        "sales": selectors.member_sales(actor=request.user, member=member)[:20],
        "can_see_sales": has_perm(request.user, "pos.report") or has_perm(request.user, "pos.sell"),
    }
    return render(request, "pos/admin/member_detail.html", context)


@page_view
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member(actor=request.user, member_id=pk)
    form = MemberForm(request.POST or None, editing=True, initial=MemberForm.initial_for(member))
    if request.method == "POST" and form.is_valid():
        try:
            admin_stores.update_member(member=member, data=form.member_input(), actor=request.user)
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Member %(card)s saved.") % {"card": member.card_number})
            return redirect("pos:member_detail", pk=member.pk)
    return form_page(request, "pos/admin/member_form.html", {"form": form, "member": member})
