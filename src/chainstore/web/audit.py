"""Audit trail page: who did what, when, from which state to which (auditor, admin, HQ)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chainstore.core.audit import verify_trail
from chainstore.core.models import AuditSeal
from chainstore.core.selectors import list_audit_events
from chainstore.sites.selectors import list_sites
from chainstore.web.http import page_view, paginate


@page_view
def audit_trail(request: HttpRequest) -> HttpResponse:
    actor = request.user
    filters = {
        "object_type": request.GET.get("object_type", "").strip(),
        "object_id": request.GET.get("object_id", "").strip(),
        "action": request.GET.get("action", "").strip(),
    }
    sites = list(list_sites(actor=actor))
    site_code = request.GET.get("site", "").strip()
    site = next((s for s in sites if s.code == site_code), None)
    events = list_audit_events(actor=actor, site_id=site.pk if site else None, **filters)
    seal = AuditSeal.objects.filter(pk=1).first()
    context = {
        "page": paginate(request, events),
        "filters": filters,
        "sites": sites,
        "site": site,
        "seal": seal,
        "chain_problems": verify_trail() if request.GET.get("verify") == "1" else None,
    }
    return render(request, "web/audit_trail.html", context)
