"""Screens: wave planning (波次), wave detail with the routes on the warehouse map, and the
phone picking screens (拣货). Pages are thin: the services decide and check permission and
site scope; the picking screen talks to the JSON API (static/fulfilment/pick.js)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.fulfilment.models import PickListStatus, WaveStatus
from chainstore.fulfilment.schemas_waves import PickListOut, pick_list_out, saving_pct
from chainstore.fulfilment.services import picking, waves
from chainstore.sites.models import Site, Zone
from chainstore.sites.selectors import get_site, list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate

API = "/api/v1/fulfilment"


class WaveForm(forms.Form):
    """Create a wave: which candidates (carrier, zone, due today) and how to split them."""

    carrier = forms.CharField(label=gettext_lazy("Carrier"), required=False, max_length=20)
    zone = forms.ChoiceField(label=gettext_lazy("Zone"), required=False)
    due_today = forms.BooleanField(
        label=gettext_lazy("Only orders placed before today's cut-off"), required=False
    )
    max_orders = forms.IntegerField(
        label=gettext_lazy("Max orders"), min_value=1, max_value=waves.MAX_ORDERS_LIMIT, initial=50
    )
    cart_size = forms.IntegerField(
        label=gettext_lazy("Orders per cart"),
        min_value=1,
        max_value=waves.CART_SIZE_LIMIT,
        initial=8,
    )

    def __init__(self, *args: Any, zones: list[Zone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("All zones"))] + [(z.code, f"{z.code} {z.name}") for z in zones]
        zone = self.fields["zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = choices
        for name, field in self.fields.items():
            css = "form-check-input" if name == "due_today" else "form-control"
            if name == "zone":
                css = "form-select"
            field.widget.attrs["class"] = css


def _planning_sites(actor: Any) -> list[Site]:
    """Sites in scope that ship online orders (warehouses and ship-from-store sites)."""
    return list(
        list_sites(actor=actor).filter(
            Q(kind__in=("cdc", "rdc")) | Q(ship_from__enabled=True), is_active=True
        )
    )


@page_view
def waves_page(request: HttpRequest) -> HttpResponse:
    """Wave planning: candidates grouped by carrier and cut-off, the wave form, the waves."""
    if not has_perm(request.user, "fulfilment.plan"):
        ensure_can(request.user, "fulfilment.pick")
        return redirect("fulfilment:pick")
    sites = _planning_sites(request.user)
    code = request.POST.get("site") or request.GET.get("site") or (sites[0].code if sites else "")
    site = get_site(code=code, actor=request.user) if code else None
    if site is None:
        return render(request, "fulfilment/waves/index.html", {"sites": sites, "site": None})
    ensure_can(request.user, "fulfilment.plan", sites=[site.pk])
    zones = list(Zone.objects.filter(site=site).order_by("code"))
    form = WaveForm(request.POST or None, zones=zones)
    status = 200
    if request.method == "POST":
        created = _create_from_form(request, site, form)
        if created is not None:
            return redirect("fulfilment:wave_detail", number=created)
        status = 422
    groups = waves.suggest_waves(site, request.user)
    page = paginate(request, waves.list_waves(actor=request.user, site=site))
    context = {
        "sites": sites,
        "site": site,
        "form": form,
        "groups": groups,
        "cutoff_at": waves.todays_cutoff(site),
        "page": page,
        "totals": {
            "shipments": sum(g.shipments for g in groups),
            "lines": sum(g.lines for g in groups),
            "units": sum(g.units for g in groups),
        },
    }
    return render(request, "fulfilment/waves/index.html", context, status=status)


def _create_from_form(request: HttpRequest, site: Site, form: WaveForm) -> str | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    cutoff: dt.datetime | None = None
    if data["due_today"]:
        cutoff = waves.todays_cutoff(site)
        if cutoff is None:
            form.add_error("due_today", _("This site has no dispatch cut-off time."))
            return None
    try:
        wave = waves.create_wave(
            site=site,
            actor=request.user,
            cutoff=cutoff,
            carrier=data["carrier"] or None,
            zone=data["zone"] or None,
            max_orders=data["max_orders"],
            cart_size=data["cart_size"],
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        form.add_error(None, describe(exc))
        return None
    messages.success(
        request,
        _("Wave %(wave)s created: %(n)s orders.")
        % {"wave": wave.number, "n": len(waves.wave_shipments(wave))},
    )
    return wave.number


@page_view
def wave_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The wave's pick lists: picker, progress, route vs S-shape, the route on the map."""
    wave = waves.get_wave(number=number, actor=request.user)
    lists = waves.wave_pick_lists(wave)
    for pick_list in lists:
        pick_list.saving_sshape = saving_pct(  # type: ignore[attr-defined]
            pick_list.route_length_m, pick_list.sshape_length_m
        )
        pick_list.saving_sequence = saving_pct(  # type: ignore[attr-defined]
            pick_list.route_length_m, pick_list.sequence_length_m
        )
    context = {
        "wave": wave,
        "site": wave.site,
        "lists": lists,
        "shipments": waves.wave_shipments(wave),
        "can_plan": has_perm(request.user, "fulfilment.plan"),
        "is_open": wave.status in (WaveStatus.RELEASED, WaveStatus.PICKING),
        "tasks_total": sum(pl.task_count for pl in lists),  # type: ignore[attr-defined]
        "tasks_done": sum(pl.tasks_done for pl in lists),  # type: ignore[attr-defined]
    }
    return render(request, "fulfilment/waves/detail.html", context)


@require_POST
@page_view
def wave_close(request: HttpRequest, number: str) -> HttpResponse:
    return _finish(request, number, waves.close_wave, _("Wave %(wave)s closed."))


@require_POST
@page_view
def wave_cancel(request: HttpRequest, number: str) -> HttpResponse:
    return _finish(request, number, waves.cancel_wave, _("Wave %(wave)s cancelled."))


def _finish(request: HttpRequest, number: str, action: Any, done: str) -> HttpResponse:
    wave = waves.get_wave(number=number, actor=request.user)
    try:
        action(wave, request.user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, done % {"wave": wave.number})
    return redirect("fulfilment:wave_detail", number=wave.number)


# -- phone picking -----------------------------------------------------------------------
@page_view
def pick_home(request: HttpRequest) -> HttpResponse:
    """My pick lists in progress, and open lists at my sites to start."""
    lists = picking.list_pick_lists(
        actor=request.user, statuses=(PickListStatus.OPEN, PickListStatus.PICKING)
    )
    mine = [pl for pl in lists if pl.picker_id == request.user.pk]
    open_lists = [pl for pl in lists if pl.status == PickListStatus.OPEN]
    return render(request, "fulfilment/pick/index.html", {"mine": mine, "open_lists": open_lists})


@require_POST
@page_view
def pick_start(request: HttpRequest, number: str) -> HttpResponse:
    pick_list = picking.get_pick_list(number=number, actor=request.user)
    try:
        picking.start_pick_list(pick_list, request.user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, describe(exc))
        return redirect("fulfilment:pick")
    return redirect("fulfilment:pick_list", number=number)


@page_view
def pick_list_page(request: HttpRequest, number: str) -> HttpResponse:
    """The phone picking screen: one task at a time in route order (pick.js)."""
    pick_list = picking.get_pick_list(number=number, actor=request.user)
    tasks = picking.pick_list_tasks(pick_list)
    data = PickListOut.model_validate(pick_list_out(pick_list, tasks)).model_dump(mode="json")
    is_mine = pick_list.picker_id == request.user.pk
    config = {
        "api": API,
        "csrf": get_token(request),
        "pickList": data,
        "canPick": pick_list.status == PickListStatus.PICKING
        and (is_mine or has_perm(request.user, "fulfilment.plan")),
        "homeUrl": reverse("fulfilment:pick"),
        "text": _texts(),
    }
    context = {"pick_list": pick_list, "config": config, "is_mine": is_mine}
    return render(request, "fulfilment/pick/list.html", context)


def _texts() -> dict[str, str]:
    return {
        "picked": _("Picked"),
        "short": _("Short pick recorded"),
        "resourced": _("The missing quantity was sent to another bin or site."),
        "backordered": _("The missing quantity could not be re-sourced; the order is backordered."),
        "otherBin": _("This is not the task's bin: confirm only if you take the goods from here."),
        "failed": _("The request failed."),
        "network": _("No connection to the server; try again (the same scan is safe to resend)."),
        "noCamera": _(
            "The camera is not available (it needs HTTPS and permission to use the camera)."
        ),
        "done": _("Pick list complete. Take the cart to the outbound check."),
    }


urlpatterns = [
    path("waves/", waves_page, name="waves"),
    path("waves/<str:number>/", wave_detail, name="wave_detail"),
    path("waves/<str:number>/close/", wave_close, name="wave_close"),
    path("waves/<str:number>/cancel/", wave_cancel, name="wave_cancel"),
    path("pick/", pick_home, name="pick"),
    path("pick/<str:number>/", pick_list_page, name="pick_list"),
    path("pick/<str:number>/start/", pick_start, name="pick_start"),
]
