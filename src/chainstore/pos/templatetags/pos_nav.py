"""The POS section of the side navigation (and the back office tabs), filtered by role.

Entries whose page does not exist (yet) are skipped; the checkout falls back to /pos/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chainstore.core.permissions import has_perm

register = template.Library()


@dataclass(frozen=True)
class PosEntry:
    label: Promise
    url_name: str
    icon: str
    permissions: tuple[str, ...]  # any one of them shows the entry
    fallback: str = ""  # path when the URL name is not (yet) defined
    back_office: bool = True  # shown in the back office tabs


POS_NAVIGATION: tuple[PosEntry, ...] = (
    PosEntry(_("Checkout"), "pos:checkout", "cart3", ("pos.sell",), "/pos/", back_office=False),
    PosEntry(_("Returns"), "pos:returns", "arrow-return-left", ("pos.return",), back_office=False),
    PosEntry(_("Shift"), "pos:shift", "cash-stack", ("pos.shift",), back_office=False),
    PosEntry(_("Store day"), "pos:store_day", "bar-chart-line", ("pos.report",)),
    PosEntry(_("Promotions"), "pos:promotions", "tags", ("pos.promotions",)),
    PosEntry(_("Price lists"), "pos:price_lists", "currency-yen", ("pos.promotions",)),
    PosEntry(_("Members"), "pos:members", "person-vcard", ("pos.member_records",)),
    PosEntry(_("Enrol a member"), "pos:member_create", "person-plus", ("pos.members",)),
    PosEntry(_("Member tiers"), "pos:member_tiers", "award", ("pos.promotions",)),
    PosEntry(_("Gift cards"), "pos:gift_cards", "gift", ("pos.settings",)),
    PosEntry(_("Tills and settings"), "pos:stores", "shop", ("pos.settings",)),
    PosEntry(_("Discrepancies"), "pos:discrepancies", "exclamation-diamond", ("pos.discrepancy",)),
)


def pos_entries(
    user: Any, path: str = "", *, back_office_only: bool = False
) -> list[dict[str, Any]]:
    """The POS entries `user` may open, with `active` on the one `path` is under."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    entries: list[dict[str, Any]] = []
    for entry in POS_NAVIGATION:
        if back_office_only and not entry.back_office:
            continue
        if not any(has_perm(user, p) for p in entry.permissions):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            if not entry.fallback:
                continue
            url = entry.fallback
        entries.append({"label": entry.label, "url": url, "icon": entry.icon, "active": False})
    # The longest URL the path is under is the active one; the till root (/pos/) is a
    # prefix of every POS page, so it is active only on itself.
    matching = [
        e
        for e in entries
        if path == e["url"] or (path.startswith(e["url"]) and e["url"].count("/") > 2)
    ]
    if matching:
        max(matching, key=lambda e: len(e["url"]))["active"] = True
    return entries


@register.simple_tag(takes_context=True)
def pos_navigation(
    context: template.Context, back_office_only: bool = False
) -> list[dict[str, Any]]:
    request = context.get("request")
    if request is None:
        return []
    return pos_entries(
        getattr(request, "user", None), request.path, back_office_only=back_office_only
    )
