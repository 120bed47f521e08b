"""The carrier registry and the simulated carrier: labels, signed webhooks, the journey."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.core.errors import ValidationFailed
from chainstore.integrations.carriers import (
    Address,
    CarrierError,
    ParcelRequest,
    TrackingCode,
    TrackingUpdate,
)
from chainstore.integrations.carriers.registry import carrier_choices, get_carrier
from chainstore.integrations.carriers.simulated import (
    SIGNATURE_HEADER,
    SimulatedCarrier,
    is_tracking_number,
)

UTC = dt.UTC
START = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
WUHAN = (Decimal("30.593100"), Decimal("114.305400"), "武汉")
SHANGHAI = (Decimal("31.230400"), Decimal("121.473700"), "上海")
SUZHOU = (Decimal("31.298900"), Decimal("120.585300"), "苏州")
BEIJING = (Decimal("39.904200"), Decimal("116.407400"), "北京")


def parcel(**kw):
    receiver = kw.pop(
        "receiver",
        Address(name="张三", phone="13800138000", address="世纪大道100号", city="上海"),
    )
    return ParcelRequest(
        reference=kw.pop("reference", "SH20261125000001-1"),
        weight_g=kw.pop("weight_g", 3390),
        sender=Address(name="武汉仓", phone="", address="东西湖区物流园8号", city="武汉"),
        receiver=receiver,
        **kw,
    )


def body(*events):
    return json.dumps({"events": list(events)}).encode()


def event(**kw):
    data = {
        "tracking_number": "SIM000000000000",
        "event_id": "e1",
        "code": "in_transit",
        "at": "2026-11-25T10:00:00+08:00",
        "description": "到达【上海转运中心】",
        "place": "上海转运中心",
        "latitude": "31.2",
        "longitude": "121.4",
    }
    data.update(kw)
    return data


# -- registry --------------------------------------------------------------------------
def test_registry_returns_the_simulated_carrier_and_lists_choices():
    carrier = get_carrier("sim")
    assert isinstance(carrier, SimulatedCarrier)
    assert carrier.code == "sim"
    with translation.override("en"):
        assert carrier_choices() == [("sim", "Simulated carrier")]


def test_unknown_carrier_is_a_clear_domain_error():
    with pytest.raises(ValidationFailed) as exc:
        get_carrier("sf")
    assert exc.value.code == "unknown_carrier"
    assert exc.value.details == {"carrier": "sf", "known": ["sim"]}


@override_settings(
    CHAINSTORE_CARRIERS={
        "sim": "chainstore.integrations.carriers.simulated.SimulatedCarrier",
        "sim2": "chainstore.integrations.carriers.simulated.SimulatedCarrier",
    }
)
def test_registry_reads_the_setting():
    assert [code for code, _name in carrier_choices()] == ["sim", "sim2"]
    assert isinstance(get_carrier("sim2"), SimulatedCarrier)


# -- labels ----------------------------------------------------------------------------
def test_labels_have_unique_valid_tracking_numbers():
    carrier = SimulatedCarrier()
    numbers = {carrier.create_label(parcel()).tracking_number for _ in range(300)}
    assert len(numbers) == 300
    assert all(re.fullmatch(r"SIM\d{12}", n) and is_tracking_number(n) for n in numbers)


def test_a_mistyped_tracking_number_fails_its_check_digit():
    number = SimulatedCarrier().create_label(parcel()).tracking_number
    wrong = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    assert is_tracking_number(number) and not is_tracking_number(wrong)
    with pytest.raises(CarrierError) as exc:
        SimulatedCarrier().cancel_label(wrong)
    assert exc.value.code == "unknown_tracking_number"
    SimulatedCarrier().cancel_label(number)


def test_label_is_a_printable_page_with_barcode_and_escaped_values():
    hostile = Address(
        name='<script>alert("x")</script>',
        phone="13912345678",
        address="<b>世纪大道</b> & 100号",
        city="上海",
    )
    label = SimulatedCarrier().create_label(parcel(receiver=hostile, note="<img src=x>"))
    html = label.content
    assert label.format == "html"
    assert "size: 100mm 150mm" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "&lt;b&gt;世纪大道&lt;/b&gt; &amp; 100号" in html
    assert "<img src=x>" not in html
    assert "139****5678" in html and "13912345678" not in html  # privacy waybill
    assert "3.390 kg" in html and "SH20261125000001-1" in html
    assert html.count(label.tracking_number) >= 2
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count("<rect") > 20  # the Code 128 bars
    assert "<?xml" not in html


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"weight_g": 0}, "invalid_weight"),
        ({"receiver": Address(name="张三", phone="1", address="  ")}, "invalid_address"),
    ],
)
def test_label_refusals(kw, code):
    with pytest.raises(CarrierError) as exc:
        SimulatedCarrier().create_label(parcel(**kw))
    assert exc.value.code == code


# -- webhooks --------------------------------------------------------------------------
def test_signed_webhook_is_parsed():
    carrier = SimulatedCarrier()
    raw = body(event(), event(event_id="e2", code="delivered", latitude=None, longitude=None))
    updates = carrier.parse_webhook(raw, {SIGNATURE_HEADER: carrier.sign(raw)})
    assert [(u.event_id, u.code) for u in updates] == [("e1", "in_transit"), ("e2", "delivered")]
    first = updates[0]
    assert first.at == dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert (first.latitude, first.longitude) == (Decimal("31.200000"), Decimal("121.400000"))
    assert first.place == "上海转运中心"
    assert updates[1].latitude is None


def test_header_name_is_case_insensitive_and_signature_is_hex_hmac():
    carrier = SimulatedCarrier()
    raw = body(event())
    signature = carrier.sign(raw)
    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    assert carrier.parse_webhook(raw, {"x-carrier-signature": signature.upper()})


@pytest.mark.parametrize(
    "headers",
    [{}, {SIGNATURE_HEADER: ""}, {SIGNATURE_HEADER: "0" * 64}, {SIGNATURE_HEADER: "zz"}],
)
def test_bad_or_missing_signature_is_refused(headers):
    with pytest.raises(CarrierError) as exc:
        SimulatedCarrier().parse_webhook(body(event()), headers)
    assert exc.value.code == "bad_signature"


def test_a_tampered_body_fails_the_signature():
    carrier = SimulatedCarrier()
    raw = body(event())
    signature = carrier.sign(raw)
    tampered = raw.replace(b"in_transit", b"delivered")
    with pytest.raises(CarrierError) as exc:
        carrier.parse_webhook(tampered, {SIGNATURE_HEADER: signature})
    assert exc.value.code == "bad_signature"


def test_the_secret_comes_from_settings_when_configured():
    raw = body(event())
    derived = SimulatedCarrier().sign(raw)
    with override_settings(CHAINSTORE_CARRIER_SECRETS={"sim": "s3cret-from-env"}):
        configured = SimulatedCarrier().sign(raw)
        with pytest.raises(CarrierError):
            SimulatedCarrier().parse_webhook(raw, {SIGNATURE_HEADER: derived})
    assert configured != derived
    with override_settings(SECRET_KEY="another-secret-key-" * 3):
        assert SimulatedCarrier().sign(raw) != derived


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"events": {}}',
        body({"event_id": "e1", "code": "in_transit", "at": "2026-11-25T10:00:00+08:00"}),
        body(event(code="teleported")),
        body(event(at="yesterday")),
        body(event(at="2026-11-25T10:00:00")),
        body(event(latitude="north")),
        body(event(longitude="200")),
        body(event(event_id="")),
        body("just a string"),
    ],
)
def test_bad_payloads_are_refused_after_the_signature(raw):
    carrier = SimulatedCarrier()
    with pytest.raises(CarrierError) as exc:
        carrier.parse_webhook(raw, {SIGNATURE_HEADER: carrier.sign(raw)})
    assert exc.value.code == "bad_payload"


def test_payload_round_trips_through_sign_and_parse():
    carrier = SimulatedCarrier()
    updates = carrier.simulate_events("SIM000000000000", WUHAN, SHANGHAI, START)
    raw = carrier.payload(updates)
    parsed = carrier.parse_webhook(raw, {SIGNATURE_HEADER: carrier.sign(raw)})
    strip = [(u.tracking_number, u.event_id, u.code, u.at, u.place, u.latitude) for u in updates]
    assert [(u.tracking_number, u.event_id, u.code, u.at, u.place, u.latitude) for u in parsed] == (
        strip
    )


# -- the journey -----------------------------------------------------------------------
def codes(updates: list[TrackingUpdate]) -> list[str]:
    return [u.code for u in updates]


@pytest.mark.parametrize(
    ("origin", "destination", "hubs"),
    [(SHANGHAI, SUZHOU, 1), (WUHAN, SHANGHAI, 2), (BEIJING, SHANGHAI, 3)],
)
def test_journey_has_more_hubs_for_longer_trips(origin, destination, hubs):
    updates = SimulatedCarrier().simulate_events("SIM000000000001", origin, destination, START)
    assert codes(updates) == (
        [TrackingCode.PICKED_UP]
        + [TrackingCode.IN_TRANSIT] * hubs
        + [TrackingCode.OUT_FOR_DELIVERY, TrackingCode.DELIVERED]
    )
    assert updates[0].place == origin[2] and updates[-1].place == destination[2]
    assert (updates[0].latitude, updates[-1].latitude) == (origin[0], destination[0])


def test_journey_is_deterministic_per_tracking_number():
    carrier = SimulatedCarrier()
    a = carrier.simulate_events("SIM000000000001", WUHAN, SHANGHAI, START)
    b = carrier.simulate_events("SIM000000000001", WUHAN, SHANGHAI, START)
    c = carrier.simulate_events("SIM000000000002", WUHAN, SHANGHAI, START)
    assert a == b
    assert [u.event_id for u in a] == [f"SIM000000000001-{i}" for i in range(1, len(a) + 1)]
    assert [u.at for u in a] != [u.at for u in c]


def test_journey_without_coordinates_has_no_coordinates():
    updates = SimulatedCarrier().simulate_events(
        "SIM000000000003", (None, None, ""), (None, None, "成都"), START
    )
    assert all(u.latitude is None and u.longitude is None for u in updates)
    assert codes(updates)[-1] == TrackingCode.DELIVERED and updates[-1].place == "成都"


coordinate = st.tuples(
    st.decimals(min_value=18, max_value=53, places=4),
    st.decimals(min_value=74, max_value=134, places=4),
    st.sampled_from(["上海", "北京", "", "乌鲁木齐"]),
)


@settings(max_examples=60, deadline=None)
@given(
    origin=coordinate,
    destination=coordinate,
    number=st.from_regex(r"SIM\d{12}", fullmatch=True),
    start=st.datetimes(  # hypothesis takes naive bounds and adds the zone itself
        min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001
        max_value=dt.datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_journey_is_plausible(origin, destination, number, start):
    updates = SimulatedCarrier().simulate_events(number, origin, destination, start)
    assert codes(updates)[0] == TrackingCode.PICKED_UP
    assert codes(updates)[-2:] == [TrackingCode.OUT_FOR_DELIVERY, TrackingCode.DELIVERED]
    assert 1 <= codes(updates).count(TrackingCode.IN_TRANSIT) <= 3
    times = [u.at for u in updates]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert start < times[0] <= start + dt.timedelta(hours=3)
    assert times[-1] - start < dt.timedelta(days=5)
    lo_lat, hi_lat = sorted((origin[0], destination[0]))
    lo_lon, hi_lon = sorted((origin[1], destination[1]))
    slack = Decimal("0.000001")
    for u in updates:
        assert lo_lat - slack <= u.latitude <= hi_lat + slack
        assert lo_lon - slack <= u.longitude <= hi_lon + slack
    hubs = [u for u in updates if u.code == TrackingCode.IN_TRANSIT]
    if origin[:2] != destination[:2] and abs(origin[0] - destination[0]) > 1:
        # hubs progress from the origin towards the destination
        gaps = [abs(u.latitude - destination[0]) for u in hubs]
        assert gaps == sorted(gaps, reverse=True)
