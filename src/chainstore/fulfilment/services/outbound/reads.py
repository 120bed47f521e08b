"""Finding shipments and parcels for the outbound screens and API, permission checked."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from chainstore.core.errors import NotFound, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import Parcel, Shipment, ShipmentStatus
from chainstore.sites.models import Site


def get_shipment(*, number: str, actor: Any, permission: str = "orders.view") -> Shipment:
    """A shipment by number, refused unless the actor has `permission` at its site."""
    shipment = (
        Shipment.objects.select_related("order", "order__channel", "site")
        .filter(number=number)
        .first()
    )
    if shipment is None:
        raise NotFound(_("No shipment %(number)s.") % {"number": number}, code="shipment_not_found")
    ensure_can(actor, permission, sites=[shipment.site_id])
    return shipment


def get_parcel(*, tracking_number: str, actor: Any) -> Parcel:
    """A parcel by tracking number, for printing its label (fulfilment.ship at its site)."""
    parcel = (
        Parcel.objects.select_related("shipment").filter(tracking_number=tracking_number).first()
    )
    if parcel is None:
        raise NotFound(
            _("No parcel has tracking number %(number)s.") % {"number": tracking_number},
            code="parcel_not_found",
        )
    ensure_can(actor, "fulfilment.ship", sites=[parcel.shipment.site_id])
    return parcel


def find_for_check(*, scan: str, actor: Any, site: Site) -> list[Shipment]:
    """The shipments at `site` a scanned document number stands for: a shipment number,
    an order number (its shipments at this site) or a pick list number (the shipments it
    picked). Cancelled shipments are left out; ready-to-check ones come first."""
    ensure_can(actor, "fulfilment.check", sites=[site.pk])
    code = scan.strip()
    if not code:
        raise ValidationFailed(_("Scan a shipment, order or pick list number."), code="empty_scan")
    matches = (
        Shipment.objects.filter(site=site)
        .filter(Q(number=code) | Q(order__number=code) | Q(lines__tasks__pick_list__number=code))
        .exclude(status=ShipmentStatus.CANCELLED)
        .select_related("order", "site")
        .distinct()
    )
    found = sorted(matches, key=lambda s: (s.status != ShipmentStatus.PICKED, s.number))
    if not found:
        raise NotFound(
            _("Nothing to check at this site for %(scan)s.") % {"scan": code},
            code="nothing_to_check",
            scan=code,
        )
    return found
