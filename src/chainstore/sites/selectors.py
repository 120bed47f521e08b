from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.sites.errors import LocationNotFound, SiteNotFound
from chainstore.sites.models import Location, Site


def list_sites(*, actor: Any, kind: str = "") -> QuerySet[Site]:
    ensure_can(actor, "sites.view")
    qs = Site.objects.order_by("code")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(pk__in=allowed)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def get_site(*, code: str, actor: Any) -> Site:
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise SiteNotFound(site=code)
    ensure_can(actor, "sites.view", sites=[site.pk])
    return site


def get_location(*, site: Site, code: str) -> Location:
    location = Location.objects.filter(site=site, code=code).first()
    if location is None:
        raise LocationNotFound(site=site.code, location=code)
    return location


def list_locations(*, site: Site, actor: Any, kind: str = "") -> QuerySet[Location]:
    ensure_can(actor, "sites.view", sites=[site.pk])
    qs = Location.objects.filter(site=site).select_related("zone").order_by("code")
    if kind:
        qs = qs.filter(kind=kind)
    return qs
