"""Sites and bins pages: site list, site detail with zones and bins, create/edit forms,
bulk bin grid with preview, deactivation, and an SVG layout plot with the walking-layout
form for pick routes.

Thin: reads through the scoped selectors, writes through the services (which check
sites.manage / sites.manage_locations at the site); refusals become form errors or messages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError, NotFound, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.fulfilment.services.layouts import bin_positions, build_layout, derived_layout
from chainstore.sites import selectors, services
from chainstore.sites.forms import BinForm, BinGridForm, LayoutForm, SiteForm, ZoneForm, metres_text
from chainstore.sites.models import Location, Site, SiteKind, WarehouseLayout
from chainstore.web.errors import describe
from chainstore.web.http import int_param, page_view, paginate

MESSAGES: dict[str, Promise] = {
    "duplicate_site": gettext_lazy("A site with this code exists."),
    "duplicate_zone": gettext_lazy("A zone with this code exists at the site."),
    "duplicate_location": gettext_lazy("A location with this code exists at the site."),
    "invalid_timezone": gettext_lazy("Unknown time zone (e.g. Asia/Shanghai)."),
    "zone_site_mismatch": gettext_lazy("The zone belongs to another site."),
    "location_holds_stock": gettext_lazy("The bin holds stock; move it out first."),
    "default_location": gettext_lazy("The site's receiving and stock locations stay active."),
    "invalid_grid": gettext_lazy(
        "Check the ranges: each starts at 1 or more and ends after it starts."
    ),
    "grid_too_large": gettext_lazy("Too many bins at once (at most 2,000)."),
    "invalid_layout": gettext_lazy(
        "Check the layout: two or more different cross-aisles, aisles at different x, "
        "the depot between the front and back cross-aisles."
    ),
    "missing_field": gettext_lazy("This field is required."),
}
ERROR_FIELDS = {
    "duplicate_site": "code",
    "duplicate_zone": "code",
    "duplicate_location": "code",
    "invalid_timezone": "timezone",
    "zone_site_mismatch": "zone",
}
ZONE_COLOURS = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997", "#ffc107",
                "#0dcaf0", "#dc3545", "#6610f2"]  # fmt: skip
UNZONED_COLOUR = "#adb5bd"
PREVIEW_CODES = 6


def explain(error: DomainError) -> str:
    known = MESSAGES.get(error.code)
    return str(known) if known is not None else describe(error)


def _refuse(form: forms.Form, error: DomainError) -> None:
    if isinstance(error, PermissionDenied):
        raise error  # a 403 page, not a form error
    field = ERROR_FIELDS.get(error.code)
    form.add_error(field if field in form.fields else None, explain(error))


def _form_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    status = 422 if context["form"].is_bound else 200
    return render(request, template, context, status=status)


# -- sites -------------------------------------------------------------------------------
@page_view
def index(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in SiteKind.values else ""
    sites = selectors.list_site_summaries(actor=request.user)
    if kind:
        sites = sites.filter(kind=kind)
    context = {
        "page": paginate(request, sites),
        "kind": kind,
        "kinds": SiteKind.choices,
        "can_create": has_perm(request.user, "sites.manage"),
    }
    return render(request, "sites/index.html", context)


@page_view
def site_create(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "sites.manage")
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(actor=request.user, **_site_values(form))
        except DomainError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("Site %(code)s created.") % {"code": site.code})
            return redirect("sites:detail", code=site.code)
    return _form_page(request, "sites/site_form.html", {"form": form, "site": None})


@page_view
def site_edit(request: HttpRequest, code: str) -> HttpResponse:
    site = selectors.get_site(code=code, actor=request.user)
    ensure_can(request.user, "sites.manage", sites=[site.pk])
    initial = {f: getattr(site, f) for f in services.SITE_FIELDS}
    form = SiteForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_site(site=site, actor=request.user, **_site_values(form))
        except DomainError as exc:
            site.refresh_from_db()
            _refuse(form, exc)
        else:
            messages.success(request, _("Site %(code)s saved.") % {"code": site.code})
            return redirect("sites:detail", code=site.code)
    return _form_page(request, "sites/site_form.html", {"form": form, "site": site})


def _site_values(form: SiteForm) -> dict[str, Any]:
    values = dict(form.cleaned_data)
    for key in ("code", "name", "address", "city", "region", "timezone"):
        if key in values:
            values[key] = values[key].strip()
    return values


@page_view
def detail(request: HttpRequest, code: str) -> HttpResponse:
    site = selectors.get_site(code=code, actor=request.user)
    zones = list(selectors.list_zones(site=site, actor=request.user))
    zone_id = int_param(request, "zone", 0, low=0, high=2**62)
    zone = next((z for z in zones if z.pk == zone_id), None)
    inactive = request.GET.get("inactive") == "1"
    bins = selectors.list_bins(site=site, actor=request.user, zone=zone, include_inactive=inactive)
    context = {
        "site": site,
        "zones": zones,
        "zone": zone,
        "inactive": inactive,
        "page": paginate(request, bins, 50),
        "default_ids": {site.receiving_location_id, site.stock_location_id},
        "can_manage_site": selectors.can_at_site(request.user, "sites.manage", site),
        "can_manage_locations": selectors.can_at_site(request.user, "sites.manage_locations", site),
    }
    return render(request, "sites/detail.html", context)


# -- zones and bins ----------------------------------------------------------------------
def _managed_site(request: HttpRequest, code: str) -> Site:
    site = selectors.get_site(code=code, actor=request.user)
    ensure_can(request.user, "sites.manage_locations", sites=[site.pk])
    return site


@page_view
def zone_create(request: HttpRequest, code: str) -> HttpResponse:
    site = _managed_site(request, code)
    form = ZoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            zone = services.create_zone(
                site=site,
                code=data["code"].strip(),
                name=data["name"].strip(),
                storage=data["storage"],
                actor=request.user,
            )
        except DomainError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("Zone %(code)s created.") % {"code": zone.code})
            return redirect("sites:detail", code=site.code)
    return _form_page(request, "sites/zone_form.html", {"form": form, "site": site})


@page_view
def bin_create(request: HttpRequest, code: str) -> HttpResponse:
    site = _managed_site(request, code)
    zones = list(selectors.list_zones(site=site, actor=request.user))
    initial = {"kind": "storage", "zone": request.GET.get("zone", "")}
    form = BinForm(request.POST or None, zones=zones, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the name is set in the same transaction
                location = _create_bin(request, site, form)
        except DomainError as exc:
            _refuse(form, exc)
        else:
            messages.success(request, _("Bin %(code)s created.") % {"code": location.code})
            return redirect("sites:detail", code=site.code)
    return _form_page(request, "sites/bin_form.html", {"form": form, "site": site})


def _create_bin(request: HttpRequest, site: Site, form: BinForm) -> Location:
    data = form.cleaned_data
    location = services.create_bin(
        site=site,
        code=data["code"].strip(),
        zone=form.chosen_zone(),
        kind=data["kind"],
        aisle=data["aisle"].strip(),
        rack=data["rack"].strip(),
        level=data["level"].strip(),
        position=data["position"].strip(),
        x=data["x"],
        y=data["y"],
        actor=request.user,
    )
    if data["name"].strip():
        services.update_location(location=location, name=data["name"].strip(), actor=request.user)
    return location


@page_view
def bin_grid(request: HttpRequest, code: str) -> HttpResponse:
    """Bulk bins from a pattern: the first POST previews, a confirmed POST creates all."""
    site = _managed_site(request, code)
    zones = list(selectors.list_zones(site=site, actor=request.user))
    form = BinGridForm(request.POST or None, zones=zones, initial={"zone": request.GET.get("zone")})
    preview = None
    if request.method == "POST" and form.is_valid():
        zone = form.zones[form.cleaned_data["zone"]]  # the choices are this site's zones
        grid = form.grid()
        try:
            grid.check()
            preview = _preview(site, zone.code, grid)
            confirmed = request.POST.get("confirm") == "1"
            # Create only what was previewed: a changed pattern is previewed again first.
            if confirmed and request.POST.get("previewed") == preview["signature"]:
                created = services.create_bin_grid(
                    site=site, zone=zone, grid=grid, actor=request.user
                )
                count = len(created)
                text = ngettext("%(count)d bin created.", "%(count)d bins created.", count)
                messages.success(request, text % {"count": count})
                return redirect(f"{reverse('sites:detail', args=[site.code])}?zone={zone.pk}")
        except DomainError as exc:
            _refuse(form, exc)
    context = {"form": form, "site": site, "preview": preview, "zones": zones}
    status = 422 if form.errors else 200
    return render(request, "sites/bin_grid.html", context, status=status)


def _preview(site: Site, zone_code: str, grid: services.BinGrid) -> dict[str, Any]:
    bins = grid.bins(zone_code)
    codes = [b["code"] for b in bins]
    return {
        "signature": f"{zone_code}:{grid.aisle_from}-{grid.aisle_to}:{grid.rack_from}-"
        f"{grid.rack_to}:{grid.level_from}-{grid.level_to}:{grid.aisle_spacing}:{grid.bin_width}",
        "count": len(bins),
        "first": bins[:PREVIEW_CODES],
        "last": bins[-1],
        "taken": selectors.existing_location_codes(site=site, codes=codes),
    }


@require_POST
@page_view
def bin_status(request: HttpRequest, code: str, pk: int, action: str) -> HttpResponse:
    """deactivate | activate one location; a refusal becomes a message."""
    site = selectors.get_site(code=code, actor=request.user)
    location = selectors.get_site_location(site=site, location_id=pk)
    if action not in ("deactivate", "activate"):
        raise NotFound()
    try:
        if action == "deactivate":
            services.deactivate_location(location=location, actor=request.user)
            messages.success(request, _("Bin %(code)s deactivated.") % {"code": location.code})
        else:
            services.activate_location(location=location, actor=request.user)
            messages.success(request, _("Bin %(code)s reactivated.") % {"code": location.code})
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, f"{location.code}: {explain(exc)}")
    back = reverse("sites:detail", args=[site.code])
    query = request.POST.get("back", "")
    return redirect(f"{back}?{query}" if query.startswith(("zone=", "inactive=")) else back)


# -- layout ------------------------------------------------------------------------------
@page_view
def layout(request: HttpRequest, code: str) -> HttpResponse:
    """The site's bins plotted by x/y, one square per rack position, coloured by zone; the
    walking layout for pick routes (a form for those who manage the site's locations) and
    the warehouse map it gives. A POST with `preview` draws the map for the form's values
    without saving them (htmx, as the form is edited)."""
    site = selectors.get_site(code=code, actor=request.user)
    can_edit = selectors.can_at_site(request.user, "sites.manage_locations", site)
    if request.method == "POST":
        ensure_can(request.user, "sites.manage_locations", sites=[site.pk])
        form = LayoutForm(request.POST)
        if "preview" in request.POST:
            return _layout_preview(request, site, form)
        if form.is_valid():
            try:
                services.set_layout(site=site, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _refuse(form, exc)
            else:
                messages.success(
                    request, _("Walking layout of %(code)s saved.") % {"code": site.code}
                )
                return redirect("sites:layout", code=site.code)
    else:
        form = LayoutForm(initial=_layout_initial(site))
    bin_aisles = sorted({x for x, _y in bin_positions(site)})
    if bin_aisles:  # what an empty aisle list stands for
        form.fields["aisles"].widget.attrs["placeholder"] = ", ".join(map(metres_text, bin_aisles))
    context = {
        **_bin_plot(request, site),
        "form": form if can_edit else None,
        "stored": WarehouseLayout.objects.filter(site=site).exists(),
    }
    return render(request, "sites/layout.html", context, status=422 if form.errors else 200)


def _layout_initial(site: Site) -> dict[str, Any]:
    """The stored layout, else the one derived from the bins (its aisles left empty: they
    follow the bins), else nothing."""
    stored = WarehouseLayout.objects.filter(site=site).first()
    if stored is not None:
        return {
            "cross_aisles": stored.cross_aisles,
            "aisles": stored.aisles,
            "depot_x": metres_text(stored.depot_x),
            "depot_y": metres_text(stored.depot_y),
        }
    derived = derived_layout(site)
    if derived is None:
        return {}
    return {
        "cross_aisles": [metres_text(y) for y in derived.cross_aisles],
        "depot_x": metres_text(derived.depot[0]),
        "depot_y": metres_text(derived.depot[1]),
    }


def _layout_preview(request: HttpRequest, site: Site, form: LayoutForm) -> HttpResponse:
    proposed = None
    if form.is_valid():
        data = form.cleaned_data
        proposed = build_layout(
            site,
            cross_aisles=data["cross_aisles"],
            aisles=data["aisles"],
            depot=(data["depot_x"], data["depot_y"]),
        )
    context = {"site": site, "proposed": proposed, "invalid": not form.is_valid()}
    return render(request, "sites/partials/layout_preview.html", context)


def _bin_plot(request: HttpRequest, site: Site) -> dict[str, Any]:
    """The bins plotted by x/y, one square per rack position, coloured by zone; y grows
    upwards (the front of the warehouse at the bottom), as on the warehouse map."""
    plan = selectors.site_layout(site=site, actor=request.user)
    min_x, min_y, max_x, max_y = plan.bounds
    size = plan.cell_size
    pad = size
    cells = [
        {
            "x": _svg(cell.x - min_x + pad - size * Decimal("0.4")),
            "y": _svg(max_y - cell.y + pad - size * Decimal("0.4")),  # front at the bottom
            "colour": _colour(cell.zone_index),
            "title": f"{cell.codes[0]}" + (f" … {cell.codes[-1]}" if len(cell.codes) > 1 else ""),
            "levels": len(cell.codes),
        }
        for cell in plan.cells
    ]
    zones = [{"zone": z, "colour": _colour(i)} for i, z in enumerate(plan.zones)]
    return {
        "site": site,
        "cells": cells,
        "cell": _svg(size * Decimal("0.8")),
        "width": _svg(max_x - min_x + 2 * pad),
        "height": _svg(max_y - min_y + 2 * pad),
        "stroke": _svg(size * Decimal("0.05")),
        "zones": zones,
        "unzoned_colour": UNZONED_COLOUR,
        "has_unzoned": any(c.zone_index < 0 for c in plan.cells),
        "unplaced": plan.unplaced,
    }


def _svg(value: Decimal) -> str:
    """A number for an SVG attribute: plain digits, no locale formatting."""
    return f"{value.quantize(Decimal('0.001')):f}"


def _colour(index: int) -> str:
    return ZONE_COLOURS[index % len(ZONE_COLOURS)] if index >= 0 else UNZONED_COLOUR
