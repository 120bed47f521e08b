"""Promotion pages: list with filters, create/edit with a form per kind, (de)activate, and
"try a basket" (the till's pricing on a typed basket). Permission pos.promotions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can
from chainstore.pos import selectors_admin as selectors
from chainstore.pos.forms import PreviewForm, PromotionForm
from chainstore.pos.models import Promotion, PromotionKind
from chainstore.pos.services import admin
from chainstore.pos.views.admin_common import explain, form_page, refuse
from chainstore.web.http import is_htmx, page_view, paginate

STATUSES = ("active", "scheduled", "ended", "inactive")
KIND_HELP: dict[str, Any] = {
    PromotionKind.PERCENT_OFF: gettext_lazy("e.g. 8折: drinks at 80 percent of the price"),
    PromotionKind.AMOUNT_OFF: gettext_lazy("e.g. eggs ¥2 off per box"),
    PromotionKind.SPECIAL_PRICE: gettext_lazy("e.g. 会员价: a member price per SKU"),
    PromotionKind.THRESHOLD: gettext_lazy("e.g. 满100减20, 满200减50, or 每满100减10"),
    PromotionKind.BUY_X_GET_Y: gettext_lazy("e.g. buy 10 get 3 free; the gift is a free line"),
    PromotionKind.NTH_ITEM: gettext_lazy("e.g. the second one half price"),
    PromotionKind.BUNDLE: gettext_lazy("e.g. bread + milk for ¥15.90"),
    PromotionKind.POINTS_MULTIPLIER: gettext_lazy("e.g. double points on fruit"),
}


PARAM_LABELS = {
    "percent": gettext_lazy("Percent off"),
    "amount": gettext_lazy("Amount off per unit"),
    "price": gettext_lazy("Price"),
    "prices": gettext_lazy("Price per SKU"),
    "tiers": gettext_lazy("Tiers"),
    "repeat": gettext_lazy("Repeat for every full spend"),
    "max_repeats": gettext_lazy("At most this many times"),
    "buy": gettext_lazy("Buy (units)"),
    "get": gettext_lazy("Get free (units)"),
    "max_gifts": gettext_lazy("At most this many gifts"),
    "nth": gettext_lazy("Every N-th unit"),
    "components": gettext_lazy("Components"),
    "multiplier": gettext_lazy("Points multiplier"),
}


def _param_rows(params: dict[str, Any]) -> list[tuple[str, str]]:
    """The offer's numbers as (label, text) for people."""
    rows = []
    for key, value in params.items():
        if value is None or value == "":
            continue
        if key == "tiers":
            text = "; ".join(
                _("spend ¥%(spend)s save ¥%(save)s") % {"spend": a, "save": b} for a, b in value
            )
        elif key == "components":
            text = " + ".join(f"{code} × {units}" for code, units in value)
        elif key == "prices":
            text = "; ".join(f"{code} ¥{price}" for code, price in value.items())
        elif key in ("amount", "price"):
            text = f"¥{value}"
        elif key == "percent":
            text = f"{value}%"
        elif key == "repeat":
            text = _("yes") if value else _("no")
        elif key == "multiplier":
            text = f"× {value}"
        else:
            text = str(value)
        rows.append((str(PARAM_LABELS.get(key, key)), text))
    return rows


@page_view
def promotion_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    status = request.GET.get("status", "")
    status = status if status in STATUSES else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in PromotionKind.values else ""
    stores = list(selectors.list_pos_stores(actor=actor, permission="pos.promotions"))
    code = request.GET.get("store", "")
    store = next((s for s in stores if s.code == code), None)
    search = request.GET.get("q", "").strip()
    rows = selectors.list_promotions(
        actor=actor, status=status, kind=kind, store=store, search=search
    )
    page = paginate(request, rows)
    for promotion in page:
        promotion.state = selectors.promotion_state(promotion)  # type: ignore[attr-defined]
    context = {
        "page": page,
        "status": status,
        "statuses": STATUSES,
        "kind": kind,
        "kinds": PromotionKind.choices,
        "stores": stores,
        "store": store,
        "search": search,
    }
    template = "pos/admin/partials/promotion_table.html" if is_htmx(request) else None
    return render(request, template or "pos/admin/promotion_list.html", context)


@page_view
def promotion_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "pos.promotions")
    kind = request.GET.get("kind", "")
    if kind not in PromotionKind.values:
        kinds = [(value, label, KIND_HELP[value]) for value, label in PromotionKind.choices]
        return render(request, "pos/admin/promotion_kind.html", {"kinds": kinds})
    form = PromotionForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            promotion = admin.create_promotion(
                code=form.cleaned_data["code"], data=form.promotion_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Promotion %(code)s created.") % {"code": promotion.code})
            return redirect("pos:promotion_detail", code=promotion.code)
    return _form(request, form, None, kind)


@page_view
def promotion_edit(request: HttpRequest, code: str) -> HttpResponse:
    promotion = selectors.get_promotion(actor=request.user, code=code)
    form = PromotionForm(
        request.POST or None,
        kind=promotion.kind,
        editing=True,
        initial=PromotionForm.initial_for(promotion),
    )
    if request.method == "POST" and form.is_valid():
        try:
            admin.update_promotion(
                promotion=promotion, data=form.promotion_input(), actor=request.user
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Promotion %(code)s saved.") % {"code": promotion.code})
            return redirect("pos:promotion_detail", code=promotion.code)
    return _form(request, form, promotion, promotion.kind)


def _form(
    request: HttpRequest, form: PromotionForm, promotion: Promotion | None, kind: str
) -> HttpResponse:
    context = {
        "form": form,
        "promotion": promotion,
        "kind": kind,
        "kind_label": PromotionKind(kind).label,
        "kind_help": KIND_HELP[PromotionKind(kind)],
        "param_fields": [form[name] for name in form.param_names()],
    }
    return form_page(request, "pos/admin/promotion_form.html", context)


@page_view
def promotion_detail(request: HttpRequest, code: str) -> HttpResponse:
    promotion = selectors.get_promotion(actor=request.user, code=code)
    return render(request, "pos/admin/promotion_detail.html", _detail(promotion))


def _detail(promotion: Promotion, **extra: Any) -> dict[str, Any]:
    snapshot = admin.promotion_snapshot(promotion)
    return {
        "promotion": promotion,
        "state": selectors.promotion_state(promotion),
        "snap": snapshot,
        "params": _param_rows(snapshot["params"]),
        "preview_form": PreviewForm(),
        **extra,
    }


@require_POST
@page_view
def promotion_toggle(request: HttpRequest, code: str) -> HttpResponse:
    promotion = selectors.get_promotion(actor=request.user, code=code)
    active = request.POST.get("active") == "1"
    try:
        admin.set_promotion_active(promotion=promotion, active=active, actor=request.user)
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, explain(exc))
    else:
        text = (
            _("Promotion %(code)s activated.") if active else _("Promotion %(code)s deactivated.")
        )
        messages.success(request, text % {"code": promotion.code})
    return redirect("pos:promotion_detail", code=promotion.code)


@require_POST
@page_view
def promotion_preview(request: HttpRequest, code: str) -> HttpResponse:
    """Price a typed basket with today's legal promotions (htmx fragment)."""
    promotion = selectors.get_promotion(actor=request.user, code=code)
    form = PreviewForm(request.POST)
    quote, error = None, ""
    if form.is_valid():
        try:
            store = selectors.get_store(
                actor=request.user, code=form.cleaned_data["store"], permission="pos.promotions"
            )
            quote = admin.preview_basket(
                store=store,
                lines=form.cleaned_data["lines"],
                member_query=form.cleaned_data["member"],
                actor=request.user,
            )
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = explain(exc)
    context = {"promotion": promotion, "preview_form": form, "quote": quote, "error": error}
    if not is_htmx(request):
        return render(request, "pos/admin/promotion_detail.html", _detail(promotion, **context))
    return render(request, "pos/admin/partials/preview.html", context)
