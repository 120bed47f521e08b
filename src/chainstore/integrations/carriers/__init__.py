"""Carrier adapters: one interface for every carrier (SF Express, JD Logistics, ... and the
built-in simulated carrier). Online-order shipments and transfers print labels and receive
tracking events through it. See docs/fulfilment.md ("Carriers").

An adapter is registered by code in `settings.CHAINSTORE_CARRIERS` ({code: dotted path});
`get_carrier(code)` returns an instance. Adapters never touch the database: the
fulfilment / transfer services store what they return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _


class TrackingCode(models.TextChoices):
    LABEL_CREATED = "label_created", _("Label created")
    PICKED_UP = "picked_up", _("Picked up by the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    address: str
    city: str = ""
    province: str = ""
    postcode: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class ParcelRequest:
    """What a carrier needs to accept one parcel."""

    reference: str  # our parcel reference, e.g. "SH20261125000042-1"
    weight_g: int
    sender: Address
    receiver: Address
    items: int = 1
    note: str = ""


@dataclass(frozen=True)
class Label:
    tracking_number: str
    format: str  # "html" (printable page), "zpl" or "pdf-base64"
    content: str


@dataclass(frozen=True)
class TrackingUpdate:
    tracking_number: str
    event_id: str  # unique per carrier: a replayed webhook is ignored
    code: str  # a TrackingCode
    at: dt.datetime
    description: str = ""
    place: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    raw: dict = field(default_factory=dict)


class CarrierError(Exception):
    """The carrier refused or failed (bad address, service down, bad signature)."""

    def __init__(self, message: str, *, code: str = "carrier_error") -> None:
        super().__init__(message)
        self.code = code


class CarrierAdapter(Protocol):
    code: str
    name: str

    def create_label(self, parcel: ParcelRequest) -> Label:
        """Book the parcel and return its tracking number and printable label."""
        ...

    def cancel_label(self, tracking_number: str) -> None:
        """Void a label that has not been handed over."""
        ...

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> list[TrackingUpdate]:
        """Verify the carrier's signature and turn its payload into tracking updates;
        raise CarrierError(code="bad_signature") when the signature does not match."""
        ...
