"""Template context for every page: the side navigation (filtered by role) and the user's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chainstore.accounts.models import ROLE_CHOICES
from chainstore.core.permissions import has_perm, role_of


@dataclass(frozen=True)
class NavEntry:
    label: Promise
    url_name: str
    icon: str
    permissions: tuple[str, ...]  # any one of them shows the entry


NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry(_("Dashboard"), "dashboard", "speedometer2", ("inventory.view",)),
    NavEntry(_("SKUs"), "sku_list", "upc-scan", ("catalog.view",)),
    NavEntry(_("Site stock"), "site_stock", "box-seam", ("inventory.view",)),
    NavEntry(
        pgettext_lazy("navigation", "Receiving"), "receiving", "truck", ("inventory.receive",)
    ),
    NavEntry(_("Expiring lots"), "expiring_lots", "hourglass-split", ("inventory.view",)),
    NavEntry(
        _("Safety-stock alerts"), "safety_alerts", "exclamation-triangle", ("inventory.view",)
    ),
    NavEntry(
        _("Stock operations"),
        "inventory:index",
        "arrows-move",
        ("inventory.move", "inventory.issue", "inventory.adjust"),
    ),
    NavEntry(
        _("Counts"),
        "counts:index",
        "clipboard-check",
        ("count.record", "count.manage", "count.approve"),
    ),
    NavEntry(_("Online orders"), "fulfilment:orders", "bag-check", ("orders.view",)),
    NavEntry(
        _("Waves and picking"),
        "fulfilment:waves",
        "signpost-split",
        ("fulfilment.plan", "fulfilment.pick"),
    ),
    NavEntry(_("Outbound check"), "fulfilment:check", "box2-heart", ("fulfilment.check",)),
    NavEntry(_("Lot trace"), "fulfilment:trace", "diagram-3", ("fulfilment.trace",)),
    NavEntry(_("Fulfilment settings"), "fulfilment:settings", "sliders", ("fulfilment.settings",)),
    NavEntry(_("Transfers"), "transfers:index", "arrow-left-right", ("transfers.view",)),
    NavEntry(_("Approvals"), "transfers:inbox", "check2-square", ("transfers.approve",)),
    NavEntry(_("Transfer cost"), "transfers:costs", "graph-up", ("transfers.costs",)),
    NavEntry(
        _("Import/Export"), "integrations:index", "arrow-left-right", ("data.import", "data.export")
    ),
    NavEntry(_("Sites and bins"), "sites:index", "buildings", ("sites.view",)),
    NavEntry(_("Audit trail"), "audit_trail", "shield-check", ("audit.view",)),
    NavEntry(_("Users"), "accounts:index", "people", ("users.manage",)),
)

ROLE_LABELS = dict(ROLE_CHOICES)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "user_role": None}
    entries = []
    for entry in NAVIGATION:
        if not any(has_perm(user, p) for p in entry.permissions):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        entries.append({"label": entry.label, "url": url, "icon": entry.icon, "active": active})
    role = role_of(user)
    return {"nav_entries": entries, "user_role": ROLE_LABELS.get(role, role) if role else None}
