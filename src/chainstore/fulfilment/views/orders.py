"""Screens: the online order list and detail (with its sourcing decision and timeline, and
the care actions behind confirm dialogs), and the fulfilment settings (sourcing strategy,
ship-from sites, sales channels). Thin: forms parse, services decide, selectors read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.core.quantities import fen_to_money, money_to_fen
from chainstore.fulfilment import selectors
from chainstore.fulfilment.models import OrderStatus, Platform, Strategy
from chainstore.fulfilment.services import care, intake, sourcing
from chainstore.fulfilment.services.intake import AddressInput
from chainstore.sites.selectors import get_site
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate


# -- forms -----------------------------------------------------------------------------
class _Styled(forms.Form):
    """Bootstrap classes on every widget (check boxes get the check-box class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            check = isinstance(field.widget, forms.CheckboxInput)
            css = "form-check-input" if check else "form-control form-control-sm"
            if isinstance(field.widget, forms.Select):
                css = "form-select form-select-sm"
            field.widget.attrs.setdefault("class", css)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Every status")), *OrderStatus.choices]
    )
    channel = forms.CharField(required=False, max_length=20)
    site = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=64)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def filters(self) -> selectors.OrderFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.OrderFilter(
            status=data.get("status", ""),
            channel=data.get("channel", ""),
            site=data.get("site", ""),
            search=data.get("q", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class AddressForm(_Styled):
    customer_name = forms.CharField(max_length=100, label=gettext_lazy("Receiver"))
    phone = forms.CharField(max_length=30, label=gettext_lazy("Phone"))
    province = forms.CharField(max_length=50, required=False, label=gettext_lazy("Province"))
    city = forms.CharField(max_length=50, required=False, label=gettext_lazy("City"))
    district = forms.CharField(max_length=50, required=False, label=gettext_lazy("District"))
    address = forms.CharField(max_length=300, label=gettext_lazy("Address"))
    postcode = forms.CharField(max_length=12, required=False, label=gettext_lazy("Postcode"))
    latitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, label=gettext_lazy("Latitude")
    )
    longitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, label=gettext_lazy("Longitude")
    )
    resource = forms.BooleanField(
        required=False, label=gettext_lazy("Source again for the new address")
    )


class PolicyForm(forms.Form):
    strategy = forms.ChoiceField(choices=Strategy.choices, label=gettext_lazy("Strategy"))
    weight_distance = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=4, label=gettext_lazy("Points per km")
    )
    weight_shipments = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=4, label=gettext_lazy("Points per shipment")
    )
    weight_cost = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=4, label=gettext_lazy("Points per yuan")
    )
    max_candidates = forms.IntegerField(
        min_value=1, max_value=20, label=gettext_lazy("Candidate sites")
    )
    max_shipments = forms.IntegerField(
        min_value=1, max_value=10, label=gettext_lazy("Most shipments per order")
    )
    allow_split = forms.BooleanField(required=False, label=gettext_lazy("Allow split shipments"))
    time_budget_ms = forms.IntegerField(
        min_value=10, max_value=10_000, label=gettext_lazy("Solver time budget (ms)")
    )


class ShipFromForm(forms.Form):
    site = forms.CharField(max_length=20)
    enabled = forms.BooleanField(required=False)
    base_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    per_kg_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    priority = forms.IntegerField(min_value=-1000, max_value=1000, initial=0)


class ChannelForm(_Styled):
    code = forms.CharField(max_length=20, label=gettext_lazy("Code"))
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    platform = forms.ChoiceField(choices=Platform.choices, label=gettext_lazy("Platform"))
    payment_timeout_minutes = forms.IntegerField(
        min_value=1, max_value=10_080, initial=30, label=gettext_lazy("Payment timeout (min)")
    )
    default_carrier = forms.CharField(
        max_length=20, initial="sim", label=gettext_lazy("Default carrier")
    )
    is_active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))


# -- orders ----------------------------------------------------------------------------
@page_view
def order_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.OrderFilter()
    orders = selectors.list_orders(actor=request.user, filters=filters)
    counts = selectors.count_orders_by_status(actor=request.user, filters=filters)
    context = {
        "form": form,
        "filters": filters,
        "page": paginate(request, orders),
        "statuses": [(value, label, counts[value]) for value, label in OrderStatus.choices],
        "total": sum(counts.values()),
        "perms_settings": has_perm(request.user, "fulfilment.settings"),
        "channels": selectors.list_channels(actor=request.user),
    }
    return render(request, "fulfilment/orders/list.html", context)


@page_view
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.get_order(number=number, actor=request.user)
    detail = selectors.order_detail(order)
    can_manage = has_perm(request.user, "orders.manage")
    sites = {s.site_id for s in detail.shipments}
    context = {
        "d": detail,
        # Link shipments and waves only where their pages would let this user in.
        "shipment_sites": _sites_open_to(request.user, sites, "orders.view"),
        "wave_sites": _sites_open_to(request.user, sites, "fulfilment.plan", "fulfilment.pick"),
        "order": order,
        "decision": detail.decisions[0] if detail.decisions else None,
        "can_manage": can_manage,
        "address_form": AddressForm(
            initial={f: getattr(order, f) for f in AddressForm.base_fields if f != "resource"}
        ),
    }
    return render(request, "fulfilment/orders/detail.html", context)


def _sites_open_to(user: Any, site_ids: set[int], *permissions: str) -> set[int]:
    """The sites among `site_ids` where the user holds one of `permissions`."""
    if not any(has_perm(user, p) for p in permissions):
        return set()
    scope = scope_site_ids(user)
    return site_ids if scope is None else site_ids & scope


def _act(request: HttpRequest, number: str, action: Any, done: str) -> HttpResponse:
    """Run one care action on the order; its refusal becomes a message on the order page."""
    order = selectors.get_order(number=number, actor=request.user)
    try:
        action(order)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, describe(exc) if exc.code in _GENERIC else exc.message)
    else:
        messages.success(request, done % {"number": order.number})
    return redirect("fulfilment:order_detail", number=order.number)


_GENERIC = {"permission_denied", "site_out_of_scope", "not_found"}


@require_POST
@page_view
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "").strip() or _("cancelled by staff")
    return _act(
        request,
        number,
        lambda o: care.cancel_order(o, actor=request.user, reason=reason),
        _("Order %(number)s cancelled; its stock is released."),
    )


@require_POST
@page_view
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        lambda o: intake.confirm_payment(o, actor=request.user),
        _("Payment of %(number)s confirmed."),
    )


@require_POST
@page_view
def order_resource(request: HttpRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        lambda o: care.resource_order(o, actor=request.user),
        _("Order %(number)s sourced again."),
    )


@require_POST
@page_view
def order_address(request: HttpRequest, number: str) -> HttpResponse:
    form = AddressForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(request, f"{label}: {' '.join(str(e) for e in errors)}")
        return redirect("fulfilment:order_detail", number=number)
    data = form.cleaned_data
    address = AddressInput(
        province=data["province"],
        city=data["city"],
        district=data["district"],
        address=data["address"],
        postcode=data["postcode"],
        latitude=data["latitude"],
        longitude=data["longitude"],
    )
    return _act(
        request,
        number,
        lambda o: care.change_address(
            o,
            actor=request.user,
            address=address,
            customer_name=data["customer_name"],
            phone=data["phone"],
            resource=data["resource"],
        ),
        _("Delivery address of %(number)s changed."),
    )


@page_view
def order_timeline_csv(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.get_order(number=number, actor=request.user)
    response = HttpResponse(selectors.timeline_csv(order), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{order.number}-timeline.csv"'
    return response


# -- settings --------------------------------------------------------------------------
@page_view
def settings_page(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "fulfilment.settings")
    return render(request, "fulfilment/settings/index.html", _settings_context(request))


def _settings_context(request: HttpRequest, **forms_: Any) -> dict[str, Any]:
    policy = selectors.get_sourcing_policy(actor=request.user)
    weights = sourcing.policy_weights(policy)
    initial = {f: getattr(policy, f) for f in PolicyForm.base_fields if hasattr(policy, f)}
    load = selectors.open_shipments_by_site()
    return {
        "policy": policy,
        "effective": weights,
        "presets": [
            (key, label, sourcing.engine.PRESETS.get(key))
            for key, label in Strategy.choices
            if key in sourcing.engine.PRESETS
        ],
        "policy_form": forms_.get("policy_form") or PolicyForm(initial=initial),
        "sites": [
            {
                "row": row,
                "load": load.get(row.site.pk, 0),
                "base_cost": fen_to_money(row.config.base_cost_fen if row.config else 800),
                "per_kg_cost": fen_to_money(row.config.per_kg_cost_fen if row.config else 200),
                "priority": row.config.priority if row.config else 0,
            }
            for row in selectors.list_ship_from_sites(actor=request.user)
        ],
        "channels": selectors.list_channels(actor=request.user),
        "channel_form": forms_.get("channel_form") or ChannelForm(),
    }


def _refused(form: forms.Form, exc: DomainError) -> None:
    if isinstance(exc, PermissionDenied):
        raise exc
    field = str(exc.details.get("field", ""))
    form.add_error(field if field in form.fields else None, exc.message)


@require_POST
@page_view
def settings_policy(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            sourcing.update_policy(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Sourcing policy saved."))
            return redirect("fulfilment:settings")
    context = _settings_context(request, policy_form=form)
    return render(request, "fulfilment/settings/index.html", context, status=422)


@require_POST
@page_view
def settings_site(request: HttpRequest) -> HttpResponse:
    form = ShipFromForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the costs: amounts are yuan, not negative."))
        return redirect("fulfilment:settings")
    data = form.cleaned_data
    site = get_site(code=data["site"], actor=request.user)
    try:
        sourcing.configure_ship_from(
            site=site,
            actor=request.user,
            enabled=data["enabled"],
            base_cost_fen=money_to_fen(data["base_cost"]),
            per_kg_cost_fen=money_to_fen(data["per_kg_cost"]),
            priority=data["priority"] or 0,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Ship-from settings of %(site)s saved.") % {"site": site.code})
    return redirect("fulfilment:settings")


@require_POST
@page_view
def settings_channel(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = intake.save_channel(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Sales channel %(code)s saved.") % {"code": channel.code})
            return redirect("fulfilment:settings")
    context = _settings_context(request, channel_form=form)
    return render(request, "fulfilment/settings/index.html", context, status=422)


urlpatterns: list[URLPattern] = [
    path("orders/", order_list, name="orders"),
    path("orders/<str:number>/", order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", order_cancel, name="order_cancel"),
    path("orders/<str:number>/pay/", order_pay, name="order_pay"),
    path("orders/<str:number>/resource/", order_resource, name="order_resource"),
    path("orders/<str:number>/address/", order_address, name="order_address"),
    path("orders/<str:number>/timeline.csv", order_timeline_csv, name="order_timeline_csv"),
    path("settings/", settings_page, name="settings"),
    path("settings/policy/", settings_policy, name="settings_policy"),
    path("settings/site/", settings_site, name="settings_site"),
    path("settings/channel/", settings_channel, name="settings_channel"),
]
