"""Screens: transfer requests (list, new/edit form, detail with the approval chain and the
current approver's actions), the approvals inbox and the approval rules. Thin: forms parse,
services decide, selectors read. Document numbers are matched as `TR<digits>` so other
one-segment pages of the app (execution, costs) never fall into the detail route."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chainstore.accounts.models import ROLE_CHOICES
from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Category, Sku
from chainstore.catalog.selectors import get_sku
from chainstore.core.errors import DomainError, PermissionDenied, ValidationFailed
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.core.quantities import fen_to_money, milli_to_qty, money_to_fen, qty_to_milli
from chainstore.sites.models import Site
from chainstore.transfers import selectors
from chainstore.transfers.models import (
    ApprovalRule,
    ApprovalScope,
    Transfer,
    TransferKind,
    TransferStatus,
)
from chainstore.transfers.services import approvals, requests, rules
from chainstore.transfers.services.rules import LevelInput, RuleInput
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate

_ROLE_LABELS = dict(ROLE_CHOICES)
_EVENT_LABELS = {
    "requested": gettext_lazy("Requested"),
    "edited": gettext_lazy("Edited"),
    "submitted": gettext_lazy("Submitted for approval"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "returned": gettext_lazy("Returned for changes"),
    "cancelled": gettext_lazy("Cancelled"),
    "reserved": gettext_lazy("Stock reserved at the source"),
    "released": gettext_lazy("Stock released"),
    "picked": gettext_lazy("Picked"),
    "shipped": gettext_lazy("Shipped"),
    "tracking": gettext_lazy("Carrier update"),
    "received": gettext_lazy("Received"),
    "discrepancy": gettext_lazy("Discrepancy recorded"),
    "resolved": gettext_lazy("Discrepancy resolved"),
    "closed": gettext_lazy("Closed"),
}
_DECISIONS = {
    "approve": (approvals.approve, gettext_lazy("Approved.")),
    "reject": (approvals.reject, gettext_lazy("Rejected.")),
    "return": (approvals.return_for_changes, gettext_lazy("Returned to the requester.")),
}


# -- forms -------------------------------------------------------------------------------------
class FilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", ""), *TransferStatus.choices])
    kind = forms.ChoiceField(required=False, choices=[("", ""), *TransferKind.choices])
    site = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=64)

    def filters(self) -> selectors.TransferFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.TransferFilter(
            status=data.get("status", ""),
            kind=data.get("kind", ""),
            site=data.get("site", ""),
            search=data.get("q", ""),
        )


class TransferForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=Site.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        label=gettext_lazy("Source"),
    )
    destination = forms.ModelChoiceField(
        queryset=Site.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        label=gettext_lazy("Destination"),
    )
    needed_by = forms.DateField(required=False, label=gettext_lazy("Needed by"))
    reason = forms.CharField(required=False, max_length=300, label=gettext_lazy("Reason"))


def _typed_lines(request: HttpRequest) -> list[dict[str, str]]:
    """The form's parallel lists line_sku / line_quantity, as typed (to show them again)."""
    return [
        {"sku": c.strip(), "quantity": q.strip()}
        for c, q in zip(
            request.POST.getlist("line_sku"), request.POST.getlist("line_quantity"), strict=False
        )
        if c.strip() or q.strip()
    ]


def _parse_lines(typed: list[dict[str, str]]) -> list[tuple[Sku, int]]:
    """Typed lines as (SKU, milli); an unknown SKU is a DomainError, a quantity that is not
    a number becomes 0 (refused by the service with the line number)."""
    parsed = []
    for index, row in enumerate(typed, start=1):
        try:
            sku = get_sku(code=row["sku"])
        except SkuNotFound as exc:
            exc.details["line"] = index
            raise
        try:
            milli = qty_to_milli(Decimal(row["quantity"]))
        except (InvalidOperation, ValueError):
            milli = 0
        parsed.append((sku, milli))
    return parsed


def _line_rows(lines: list[tuple[Sku, int]]) -> list[dict[str, Any]]:
    return [
        {"sku": sku.code, "name": sku.name, "quantity": format(milli_to_qty(q).normalize(), "f")}
        for sku, q in lines
    ]


# -- list --------------------------------------------------------------------------------------
@page_view
def index(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.TransferFilter()
    counts = selectors.count_by_status(actor=request.user)
    context = {
        "filters": filters,
        "page": paginate(request, selectors.list_transfers(actor=request.user, filters=filters)),
        "statuses": [(value, label, counts[value]) for value, label in TransferStatus.choices],
        "total": sum(counts.values()),
        "kinds": TransferKind.choices,
        "can_request": has_perm(request.user, "transfers.request"),
        "can_rules": has_perm(request.user, "transfers.rules"),
        "pending": selectors.pending_count(request.user),
    }
    return render(request, "transfers/list.html", context)


# -- new / edit --------------------------------------------------------------------------------
def _form_page(
    request: HttpRequest,
    form: TransferForm,
    lines: list[dict[str, Any]],
    *,
    transfer: Transfer | None = None,
    suggestion: Any = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "lines": lines,
        "transfer": transfer,
        "suggestion": suggestion,
        "sites": Site.objects.filter(is_active=True).order_by("code"),
    }
    return render(request, "transfers/form.html", context, status=status)


@page_view
def new(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "transfers.request")
    if request.method == "POST":
        return _save(request, TransferForm(request.POST), None)
    initial: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    suggestion = None
    site_code, sku_code = request.GET.get("site", ""), request.GET.get("sku", "")
    if site_code and sku_code:
        site = selectors.find_site(site_code)
        try:
            sku = get_sku(code=sku_code)
        except SkuNotFound:
            sku = None
        if site is not None and sku is not None:
            suggestion = requests.suggest_from_alert(site=site, sku=sku, actor=request.user)
            initial = {
                "destination": site.code,
                "source": suggestion.source.code if suggestion.source else None,
                "reason": _("Below safety stock"),
            }
            lines = _line_rows([(sku, suggestion.quantity)])
    return _form_page(request, TransferForm(initial=initial), lines, suggestion=suggestion)


@page_view
def edit(request: HttpRequest, number: str) -> HttpResponse:
    transfer = selectors.get_transfer(number=number, actor=request.user)
    if transfer.requested_by_id != request.user.pk or transfer.status not in requests.EDITABLE:
        messages.error(request, _("Only the requester may change a draft or returned request."))
        return redirect("transfers:detail", number=number)
    if request.method == "POST":
        return _save(request, TransferForm(request.POST), transfer)
    form = TransferForm(
        initial={
            "source": transfer.source.code,
            "destination": transfer.destination.code,
            "needed_by": transfer.needed_by,
            "reason": transfer.reason,
        }
    )
    lines = _line_rows([(ln.sku, ln.quantity) for ln in transfer.lines.select_related("sku")])
    return _form_page(request, form, lines, transfer=transfer)


def _save(request: HttpRequest, form: TransferForm, transfer: Transfer | None) -> HttpResponse:
    typed = _typed_lines(request)
    if form.is_valid():
        data = form.cleaned_data
        submit = request.POST.get("action") == "submit"
        try:
            lines = _parse_lines(typed)
            if transfer is None:
                transfer = requests.create_transfer(
                    source=data["source"],
                    destination=data["destination"],
                    lines=lines,
                    actor=request.user,
                    needed_by=data["needed_by"],
                    reason=data["reason"],
                    submit=submit,
                )
            else:
                requests.update_transfer(
                    transfer,
                    actor=request.user,
                    lines=lines,
                    needed_by=data["needed_by"],
                    reason=data["reason"],
                )
                if submit:
                    requests.submit(transfer, actor=request.user)
        except PermissionDenied:
            raise
        except DomainError as exc:
            form.add_error(None, describe(exc))
        else:
            messages.success(
                request,
                (_("Request %(number)s submitted.") if submit else _("Draft %(number)s saved."))
                % {"number": transfer.number},
            )
            return redirect("transfers:detail", number=transfer.number)
    return _form_page(request, form, typed, transfer=transfer, status=422)


# -- detail and actions ------------------------------------------------------------------------
def _link(name: str, number: str) -> str | None:
    """A link to an execution page when that page exists (it is another module's)."""
    try:
        return reverse(name, args=[number])
    except NoReverseMatch:
        return None


@page_view
def detail(request: HttpRequest, number: str) -> HttpResponse:
    transfer = selectors.get_transfer(number=number, actor=request.user)
    d = selectors.transfer_detail(transfer)
    for round_ in d.rounds:
        for step in round_.steps:
            step.role_label = _ROLE_LABELS.get(step.role, step.role)  # type: ignore[attr-defined]
    for event in d.events:
        event.label = _EVENT_LABELS.get(event.kind, event.kind)  # type: ignore[attr-defined]
    mine = transfer.requested_by_id == request.user.pk
    status = transfer.status
    context = {
        "t": transfer,
        "d": d,
        "can_edit": mine and status in requests.EDITABLE,
        "can_cancel": status in requests.CANCELLABLE
        and (mine or has_perm(request.user, "transfers.request")),
        "can_decide": selectors.can_decide(d.current_step, request.user),
        "ship_url": _link("transfers:ship", number)
        if status in (TransferStatus.APPROVED, TransferStatus.PICKING)
        else None,
        "receive_url": _link("transfers:receive", number)
        if status in (TransferStatus.IN_TRANSIT, TransferStatus.RECEIVED)
        else None,
        "value": fen_to_money(transfer.value_fen),
    }
    return render(request, "transfers/detail.html", context)


def _after(request: HttpRequest, number: str) -> HttpResponse:
    if request.POST.get("next") == "inbox":
        return redirect("transfers:inbox")
    return redirect("transfers:detail", number=number)


@require_POST
@page_view
def decide(request: HttpRequest, number: str) -> HttpResponse:
    transfer = selectors.get_transfer(number=number, actor=request.user)
    action, done = _DECISIONS.get(request.POST.get("decision", ""), (None, ""))
    if action is None:
        messages.error(request, _("Choose approve, reject or return."))
        return _after(request, number)
    target: Any = transfer
    if request.POST.get("step", "").isdigit():
        target = selectors.get_step(transfer=transfer, step_id=int(request.POST["step"]))
    try:
        action(target, request.user, request.POST.get("comment", ""))
    except DomainError as exc:  # a refusal here is a message, the page stays usable
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{transfer.number}: {done}")
    return _after(request, number)


@require_POST
@page_view
def submit(request: HttpRequest, number: str) -> HttpResponse:
    transfer = selectors.get_transfer(number=number, actor=request.user)
    try:
        requests.submit(transfer, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Request %(number)s submitted.") % {"number": number})
    return redirect("transfers:detail", number=number)


@require_POST
@page_view
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    transfer = selectors.get_transfer(number=number, actor=request.user)
    try:
        requests.cancel_transfer(
            transfer, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Transfer %(number)s cancelled.") % {"number": number})
    return redirect("transfers:detail", number=number)


# -- inbox -------------------------------------------------------------------------------------
@page_view
def inbox(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "transfers.approve")
    steps = selectors.inbox(request.user)
    for step in steps:
        step.role_label = _ROLE_LABELS.get(step.role, step.role)  # type: ignore[attr-defined]
    return render(request, "transfers/inbox.html", {"steps": steps})


# -- rules -------------------------------------------------------------------------------------
def _rule_initial(rule: ApprovalRule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "priority": 100,
            "is_active": True,
            "min_value": "",
            "min_quantity": "",
            "kinds": [],
            "source_sites": "",
            "destination_sites": "",
            "categories": [],
            "levels": [{"role": "store_manager", "scope": "destination", "name": ""}],
        }
    return {
        "name": rule.name,
        "priority": rule.priority,
        "is_active": rule.is_active,
        "min_value": str(fen_to_money(rule.min_value_fen))
        if rule.min_value_fen is not None
        else "",
        "min_quantity": format(milli_to_qty(rule.min_quantity).normalize(), "f")
        if rule.min_quantity is not None
        else "",
        "kinds": list(rule.kinds),
        "source_sites": " ".join(sorted(s.code for s in rule.source_sites.all())),
        "destination_sites": " ".join(sorted(s.code for s in rule.destination_sites.all())),
        "categories": [c.code for c in rule.categories.all()],
        "levels": [
            {"role": lv.role, "scope": lv.scope, "name": lv.name}
            for lv in sorted(rule.levels.all(), key=lambda lv: lv.seq)
        ],
    }


def _decimal(raw: str, field: str) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(_("Enter a number."), field=field) from None
    if value < 0:
        raise ValidationFailed(_("Thresholds cannot be negative."), code="negative_threshold")
    return value


def _posted_rule(request: HttpRequest) -> tuple[RuleInput, dict[str, Any]]:
    p = request.POST
    typed: dict[str, Any] = {
        "name": p.get("name", ""),
        "priority": p.get("priority", "100"),
        "is_active": p.get("is_active") == "on",
        "min_value": p.get("min_value", ""),
        "min_quantity": p.get("min_quantity", ""),
        "kinds": p.getlist("kinds"),
        "source_sites": p.get("source_sites", ""),
        "destination_sites": p.get("destination_sites", ""),
        "categories": p.getlist("categories"),
        "levels": [
            {"role": r, "scope": s, "name": n}
            for r, s, n in zip(
                p.getlist("level_role"),
                p.getlist("level_scope"),
                p.getlist("level_name"),
                strict=False,
            )
        ],
    }
    try:
        priority = int(typed["priority"])
    except ValueError:
        raise ValidationFailed(_("Enter a whole number."), field="priority") from None
    min_value = _decimal(typed["min_value"], "min_value")
    min_quantity = _decimal(typed["min_quantity"], "min_quantity")
    data = RuleInput(
        name=typed["name"],
        priority=priority,
        is_active=typed["is_active"],
        min_value_fen=money_to_fen(min_value) if min_value is not None else None,
        min_quantity=qty_to_milli(min_quantity) if min_quantity is not None else None,
        kinds=typed["kinds"],
        source_sites=rules.sites_by_code(typed["source_sites"].replace(",", " ").split()),
        destination_sites=rules.sites_by_code(typed["destination_sites"].replace(",", " ").split()),
        categories=rules.categories_by_code(typed["categories"]),
        levels=[LevelInput(lv["role"], lv["scope"], lv["name"]) for lv in typed["levels"]],
    )
    return data, typed


def _rules_page(
    request: HttpRequest,
    *,
    rule: ApprovalRule | None,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    listed = list(selectors.list_rules(actor=request.user))
    for listed_rule in listed:
        levels = sorted(listed_rule.levels.all(), key=lambda lv: lv.seq)
        for level in levels:
            level.role_label = _ROLE_LABELS.get(level.role, level.role)  # type: ignore[attr-defined]
        listed_rule.level_rows = levels  # type: ignore[attr-defined]
    context = {
        "rules": listed,
        "rule": rule,
        "values": values,
        "error": error,
        "roles": [(r, _ROLE_LABELS.get(r, r)) for r in rules.approver_roles()],
        "scopes": ApprovalScope.choices,
        "kinds": TransferKind.choices,
        "categories": Category.objects.order_by("code"),
    }
    return render(request, "transfers/rules.html", context, status=status)


@page_view
def rules_page(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    ensure_can(request.user, "transfers.rules")
    rule = selectors.get_rule(rule_id=rule_id, actor=request.user) if rule_id else None
    if request.method != "POST":
        return _rules_page(request, rule=rule, values=_rule_initial(rule))
    typed: dict[str, Any] = {}
    try:
        data, typed = _posted_rule(request)
        if rule is None:
            rules.create_rule(actor=request.user, data=data)
        else:
            rules.update_rule(rule, actor=request.user, data=data)
    except PermissionDenied:
        raise
    except DomainError as exc:
        values = typed or _rule_initial(rule)
        return _rules_page(request, rule=rule, values=values, error=exc.message, status=422)
    messages.success(request, _("Approval rule saved."))
    return redirect("transfers:rules")


@require_POST
@page_view
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rules.delete_rule(selectors.get_rule(rule_id=rule_id, actor=request.user), actor=request.user)
    messages.success(request, _("Approval rule deleted."))
    return redirect("transfers:rules")


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    path("new/", new, name="new"),
    path("approvals/", inbox, name="inbox"),
    path("rules/", rules_page, name="rules"),
    path("rules/<int:rule_id>/", rules_page, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", rule_delete, name="rule_delete"),
    path("<transfer_number:number>/", detail, name="detail"),
    path("<transfer_number:number>/edit/", edit, name="edit"),
    path("<transfer_number:number>/decide/", decide, name="decide"),
    path("<transfer_number:number>/submit/", submit, name="submit"),
    path("<transfer_number:number>/cancel/", cancel, name="cancel"),
]
