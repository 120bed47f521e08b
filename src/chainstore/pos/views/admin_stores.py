"""Store pages: POS settings and tills per store (pos.settings, the user's stores only),
and gift cards: issue, top up, balance ledger (pos.settings)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can
from chainstore.pos import selectors_admin as selectors
from chainstore.pos.forms import GiftCardForm, SettingsForm, TillForm
from chainstore.pos.services import admin_stores
from chainstore.pos.views.admin_common import form_page, refuse
from chainstore.sites.models import Site
from chainstore.web.http import page_view, paginate


# -- stores: settings and tills ----------------------------------------------------------------
@page_view
def store_list(request: HttpRequest) -> HttpResponse:
    stores = selectors.list_pos_stores(actor=request.user).annotate(
        till_count=Count("tills", filter=Q(tills__is_active=True))
    )
    rows = [(store, selectors.store_settings(store)) for store in stores]
    return render(request, "pos/admin/store_list.html", {"rows": rows})


def _store_page(
    request: HttpRequest,
    store: Site,
    *,
    settings_form: SettingsForm | None = None,
    till_form: TillForm | None = None,
) -> HttpResponse:
    settings = selectors.store_settings(store)
    settings_form = settings_form or SettingsForm(initial=SettingsForm.initial_for(settings))
    till_form = till_form or TillForm()
    context: dict[str, Any] = {
        "store": store,
        "settings": settings,
        "form": settings_form,
        "till_form": till_form,
        "tills": selectors.list_tills(actor=request.user, store=store),
    }
    bound = [f for f in (settings_form, till_form) if f.is_bound and f.errors]
    return render(request, "pos/admin/store_detail.html", context, status=422 if bound else 200)


@page_view
def store_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The store's POS settings (GET shows, POST saves) and its tills."""
    store = selectors.get_store(actor=request.user, code=code)
    if request.method != "POST":
        return _store_page(request, store)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            admin_stores.update_store_settings(
                store=store, data=form.settings_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("POS settings of %(store)s saved.") % {"store": store.code})
            return redirect("pos:store_detail", code=store.code)
    return _store_page(request, store, settings_form=form)


@require_POST
@page_view
def till_create(request: HttpRequest, code: str) -> HttpResponse:
    store = selectors.get_store(actor=request.user, code=code)
    form = TillForm(request.POST)
    if form.is_valid():
        try:
            till = admin_stores.create_till(
                store=store,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Till %(till)s created.") % {"till": till.code})
            return redirect("pos:store_detail", code=store.code)
    return _store_page(request, store, till_form=form)


@page_view
def till_edit(request: HttpRequest, code: str, till_code: str) -> HttpResponse:
    """Rename, deactivate or reactivate a till."""
    store = selectors.get_store(actor=request.user, code=code)
    till = selectors.get_till(actor=request.user, store=store, code=till_code)
    initial = {"name": till.name, "is_active": till.is_active}
    form = TillForm(request.POST or None, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            admin_stores.update_till(
                till=till,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
                actor=request.user,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Till %(till)s saved.") % {"till": till.code})
            return redirect("pos:store_detail", code=store.code)
    context = {"form": form, "store": store, "till": till}
    return form_page(request, "pos/admin/till_form.html", context)


# -- gift cards ----------------------------------------------------------------------------
@page_view
def gift_card_list(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "pos.settings")
    form = GiftCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = admin_stores.issue_gift_card(
                number=form.cleaned_data["number"],
                amount_fen=form.amount_fen(),
                actor=request.user,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Gift card %(number)s issued.") % {"number": card.number})
            return redirect("pos:gift_card_detail", number=card.number)
    search = request.GET.get("q", "").strip()
    context = {
        "form": form,
        "search": search,
        "page": paginate(request, selectors.list_gift_cards(actor=request.user, search=search)),
    }
    return form_page(request, "pos/admin/gift_card_list.html", context)


@page_view
def gift_card_detail(request: HttpRequest, number: str) -> HttpResponse:
    card = selectors.get_gift_card(actor=request.user, number=number)
    form = GiftCardForm(request.POST or None, top_up=True)
    if request.method == "POST" and form.is_valid():
        try:
            admin_stores.top_up_gift_card(
                card=card,
                amount_fen=form.amount_fen(),
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(
                request, _("Gift card %(number)s topped up.") % {"number": card.number}
            )
            return redirect("pos:gift_card_detail", number=card.number)
    context = {
        "card": card,
        "form": form,
        # One key per rendered form: a double submit or a resent POST loads the card once.
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "page": paginate(request, selectors.gift_card_entries(card)),
    }
    return form_page(request, "pos/admin/gift_card_detail.html", context)
