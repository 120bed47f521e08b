"""The built-in simulated carrier (模拟快递): labels with tracking numbers, signed tracking
webhooks and a plausible journey (picked up -> hubs -> out for delivery -> delivered), so a
chain can run the whole outbound flow before it signs a contract with SF Express or JD.

It behaves like a real adapter: it never touches the database, it signs its webhooks with
HMAC-SHA256 over the raw body (header `X-Carrier-Signature`, hex), and its payload is the
generic one the `/tracking` API takes:

    {"events": [{"tracking_number": "SIM123456789012", "event_id": "SIM123456789012-1",
                 "code": "picked_up", "at": "2026-11-25T10:00:00+08:00",
                 "description": "...", "place": "武汉",
                 "latitude": "30.59", "longitude": "114.30"}]}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import random
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

import barcode
from barcode.writer import SVGWriter
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from chainstore.integrations.carriers import (
    Address,
    CarrierError,
    Label,
    ParcelRequest,
    TrackingCode,
    TrackingUpdate,
)

SIGNATURE_HEADER = "X-Carrier-Signature"
PREFIX = "SIM"
_DIGITS = 12
_COORD = Decimal("0.000001")

# (latitude, longitude, city): either coordinate may be unknown.
Place = tuple[Decimal | float | None, Decimal | float | None, str]


class SimulatedCarrier:
    """A carrier that exists only in this process: see the module docstring."""

    code = "sim"
    name = _("Simulated carrier")

    # -- labels ----------------------------------------------------------------------
    def create_label(self, parcel: ParcelRequest) -> Label:
        """Book the parcel: a fresh tracking number and a printable 100x150 mm HTML label."""
        if parcel.weight_g <= 0:
            raise CarrierError("weight must be positive", code="invalid_weight")
        if not parcel.receiver.address.strip():
            raise CarrierError("the receiver has no address", code="invalid_address")
        number = new_tracking_number()
        return Label(tracking_number=number, format="html", content=render_label(parcel, number))

    def cancel_label(self, tracking_number: str) -> None:
        """Void a label. The simulation keeps no bookings, so only the number is checked."""
        if not is_tracking_number(tracking_number):
            raise CarrierError("not a simulated tracking number", code="unknown_tracking_number")

    # -- webhooks --------------------------------------------------------------------
    def sign(self, body: bytes) -> str:
        """The signature the carrier sends with `body` (hex HMAC-SHA256)."""
        return hmac.new(_secret(), body, hashlib.sha256).hexdigest()

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[TrackingUpdate]:
        """Verify the signature over the raw body, then read the events. A missing or wrong
        signature is `bad_signature`; a body that is not the documented JSON is
        `bad_payload`. Verification comes first so an unsigned body is never parsed."""
        given = _header(headers, SIGNATURE_HEADER).strip().lower()
        if not given or not hmac.compare_digest(given, self.sign(body)):
            raise CarrierError("the webhook signature does not match", code="bad_signature")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CarrierError("the webhook body is not JSON", code="bad_payload") from exc
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            raise CarrierError("the webhook body has no events list", code="bad_payload")
        return [_update(item, index) for index, item in enumerate(events)]

    def payload(self, updates: list[TrackingUpdate]) -> bytes:
        """The webhook body for `updates` (what the carrier would post)."""
        return json.dumps({"events": [event_json(u) for u in updates]}, ensure_ascii=False).encode()

    # -- the journey -----------------------------------------------------------------
    def simulate_events(
        self, tracking_number: str, origin: Place, destination: Place, start_at: dt.datetime
    ) -> list[TrackingUpdate]:
        """The parcel's whole journey from `start_at` (handed over): picked up, 1-3 hubs on
        the way (more for longer trips, coordinates between origin and destination),
        out for delivery, delivered. Deterministic per tracking number, so event ids stay
        the same however often it is computed."""
        rng = random.Random(tracking_number)
        o_lat, o_lon, o_city = _coords(origin)
        d_lat, d_lon, d_city = _coords(destination)
        km = _distance_km(o_lat, o_lon, d_lat, d_lon)
        hubs = 1 if km < 150 else 2 if km < 800 else 3
        at = start_at + dt.timedelta(minutes=rng.randint(45, 180))
        stops: list[tuple[str, dt.datetime, str, str, float | None, float | None]] = [
            (
                TrackingCode.PICKED_UP,
                at,
                f"快件已由【{o_city or '始发网点'}】揽收",
                o_city,
                o_lat,
                o_lon,
            )
        ]
        previous = 0.0
        for index in range(hubs):
            share = (index + 1) / (hubs + 1) + rng.uniform(-0.08, 0.08) / (hubs + 1)
            hours = rng.uniform(1.5, 4.0) + km * (share - previous) / 65.0
            at += dt.timedelta(minutes=round(hours * 60))
            previous = share
            place = _hub_name(index, hubs, o_city, d_city)
            lat = _between(o_lat, d_lat, share)
            lon = _between(o_lon, d_lon, share)
            stops.append((TrackingCode.IN_TRANSIT, at, f"快件到达【{place}】", place, lat, lon))
        at += dt.timedelta(minutes=rng.randint(150, 420))
        stops.append(
            (
                TrackingCode.OUT_FOR_DELIVERY,
                at,
                f"快件正在派送中【{d_city or '目的网点'}】",
                d_city,
                d_lat,
                d_lon,
            )
        )
        at += dt.timedelta(minutes=rng.randint(30, 240))
        stops.append(
            (TrackingCode.DELIVERED, at, "快件已签收，感谢使用模拟快递", d_city, d_lat, d_lon)
        )
        return [
            TrackingUpdate(
                tracking_number=tracking_number,
                event_id=f"{tracking_number}-{seq}",
                code=str(code),
                at=when,
                description=text,
                place=place,
                latitude=_decimal_coord(lat),
                longitude=_decimal_coord(lon),
            )
            for seq, (code, when, text, place, lat, lon) in enumerate(stops, start=1)
        ]


# -- tracking numbers ----------------------------------------------------------------------
def new_tracking_number() -> str:
    """SIM + 11 random digits + a check digit. 10^11 numbers drawn at random make a clash
    unlikely; the fulfilment service still checks that a number is unused before storing
    it (and the database holds tracking numbers unique)."""
    body = f"{secrets.randbelow(10 ** (_DIGITS - 1)):0{_DIGITS - 1}d}"
    return f"{PREFIX}{body}{_check_digit(body)}"


def is_tracking_number(value: str) -> bool:
    body = value[len(PREFIX) :]
    return (
        value.startswith(PREFIX)
        and len(body) == _DIGITS
        and body.isdigit()
        and _check_digit(body[:-1]) == body[-1]
    )


def _check_digit(digits: str) -> str:
    """Weights 3,1,3,1... from the right (the GS1 scheme), so a mistyped digit is caught."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


# -- the label -----------------------------------------------------------------------------
def barcode_svg(value: str) -> str:
    """Code 128 of `value` as an inline <svg> element (no XML prologue)."""
    code = barcode.get("code128", value, writer=SVGWriter())
    svg = code.render(
        writer_options={
            "module_width": 0.3,
            "module_height": 16.0,
            "quiet_zone": 2.0,
            "write_text": False,
        }
    ).decode("utf-8")
    return svg[svg.index("<svg") :]


def mask_phone(phone: str) -> str:
    """138****8000: the privacy waybill (隐私面单) shows only the ends of the number."""
    digits = phone.strip()
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def _address_html(title: str, person: Address, *, masked: bool) -> str:
    phone = mask_phone(person.phone) if masked else person.phone
    place = " ".join(p for p in (person.province, person.city, person.address) if p)
    return (
        f'<section class="party"><div class="tag">{escape(title)}</div>'
        f'<div class="who">{escape(person.name)} <span>{escape(phone)}</span></div>'
        f'<div class="where">{escape(place)}</div></section>'
    )


def render_label(parcel: ParcelRequest, tracking_number: str) -> str:
    """A self-contained printable page sized 100x150 mm (thermal label paper). Every value
    from the order is escaped; the barcode is generated SVG; the receiver's phone is masked."""
    kg = Decimal(parcel.weight_g) / 1000
    return f"""<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<title>{escape(tracking_number)}</title>
<style>
@page {{ size: 100mm 150mm; margin: 0; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; }}
.label {{ width: 100mm; height: 150mm; padding: 4mm; border: 0.3mm solid #000;
  display: flex; flex-direction: column; gap: 2mm; overflow: hidden; }}
.head {{ display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 0.4mm solid #000; padding-bottom: 1mm; }}
.head b {{ font-size: 6mm; }}
.code {{ text-align: center; }}
.code svg {{ display: block; margin: 0 auto; }}
.number {{ font: bold 5mm monospace; letter-spacing: 0.6mm; }}
.party {{ border: 0.3mm solid #000; padding: 2mm; }}
.tag {{ font-size: 3mm; color: #333; }}
.who {{ font-size: 4.5mm; font-weight: bold; }}
.who span {{ font-weight: normal; margin-left: 2mm; }}
.where {{ font-size: 4mm; }}
.meta {{ display: flex; justify-content: space-between; font-size: 3.5mm; }}
.note {{ font-size: 3mm; color: #333; }}
@media screen {{ body {{ background: #eee; padding: 8mm; }} .label {{ background: #fff; }} }}
</style></head>
<body onload="window.print && window.print()">
<div class="label" data-tracking="{escape(tracking_number)}">
<div class="head"><b>模拟快递 SIM</b><span>{escape(parcel.reference)}</span></div>
<div class="code">{barcode_svg(tracking_number)}
<div class="number">{escape(tracking_number)}</div></div>
{_address_html("收 Receiver", parcel.receiver, masked=True)}
{_address_html("寄 Sender", parcel.sender, masked=False)}
<div class="meta"><span>重量 Weight: {escape(f"{kg:.3f}")} kg</span>
<span>件数 Items: {escape(str(parcel.items))}</span></div>
<div class="meta"><span>参考号 Ref: {escape(parcel.reference)}</span></div>
<div class="note">{escape(parcel.note)}</div>
</div></body></html>
"""


# -- webhook parsing -----------------------------------------------------------------------
def _secret() -> bytes:
    """The webhook secret: CHAINSTORE_CARRIER_SECRETS["sim"] when configured, else a key
    derived from SECRET_KEY (so a fresh install works and no secret lives in the repo)."""
    configured = getattr(settings, "CHAINSTORE_CARRIER_SECRETS", {}).get(SimulatedCarrier.code)
    if configured:
        return str(configured).encode()
    return salted_hmac("chainstore.integrations.carriers.sim", "webhook").hexdigest().encode()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return str(value or "")


def event_json(update: TrackingUpdate) -> dict[str, Any]:
    """One event in the webhook payload's shape."""
    return {
        "tracking_number": update.tracking_number,
        "event_id": update.event_id,
        "code": update.code,
        "at": update.at.isoformat(),
        "description": update.description,
        "place": update.place,
        "latitude": str(update.latitude) if update.latitude is not None else None,
        "longitude": str(update.longitude) if update.longitude is not None else None,
    }


def _update(item: Any, index: int) -> TrackingUpdate:
    def bad(what: str) -> CarrierError:
        return CarrierError(f"event {index}: {what}", code="bad_payload")

    if not isinstance(item, dict):
        raise bad("not an object")
    number, event_id, code = (item.get(k) for k in ("tracking_number", "event_id", "code"))
    if not isinstance(number, str) or not number.strip() or len(number) > 40:
        raise bad("tracking_number is missing")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        raise bad("event_id is missing")
    if code not in TrackingCode.values:
        raise bad(f"unknown code {code!r}")
    try:
        at = dt.datetime.fromisoformat(str(item.get("at")))
    except ValueError as exc:
        raise bad("at is not an ISO 8601 time") from exc
    if at.tzinfo is None:
        raise bad("at has no time zone")
    return TrackingUpdate(
        tracking_number=number.strip(),
        event_id=event_id.strip(),
        code=code,
        at=at,
        description=str(item.get("description") or "")[:300],
        place=str(item.get("place") or "")[:100],
        latitude=_coordinate(item.get("latitude"), 90, bad),
        longitude=_coordinate(item.get("longitude"), 180, bad),
        raw=item,
    )


def _coordinate(value: Any, limit: int, bad: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise bad(f"bad coordinate {value!r}") from exc
    if not number.is_finite() or abs(number) > limit:
        raise bad(f"bad coordinate {value!r}")
    return number.quantize(_COORD)


# -- geometry of the journey ---------------------------------------------------------------
def _coords(place: Place) -> tuple[float | None, float | None, str]:
    lat, lon, city = place
    return (
        float(lat) if lat is not None else None,
        float(lon) if lon is not None else None,
        city or "",
    )


def _distance_km(
    lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None
) -> float:
    """Great-circle distance; 300 km (a regional trip) when either end is unknown."""
    if None in (lat1, lon1, lat2, lon2):
        return 300.0
    assert lat1 is not None and lon1 is not None and lat2 is not None and lon2 is not None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _between(a: float | None, b: float | None, share: float) -> float | None:
    if a is None or b is None:
        return None
    return a + (b - a) * share


def _decimal_coord(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(_COORD)


def _hub_name(index: int, hubs: int, origin_city: str, destination_city: str) -> str:
    if hubs > 1 and index == 0:
        return f"{origin_city}转运中心" if origin_city else "始发转运中心"
    if hubs > 1 and index == hubs - 1:
        return f"{destination_city}转运中心" if destination_city else "目的转运中心"
    return "中转场"
