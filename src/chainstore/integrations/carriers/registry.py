"""Which carrier adapters this installation has: `settings.CHAINSTORE_CARRIERS` maps a
carrier code to the dotted path of its adapter class. Codes are what shipments, parcels and
tracking events store, so a code must keep meaning the same carrier once used."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from chainstore.core.errors import ValidationFailed
from chainstore.integrations.carriers import CarrierAdapter, TrackingUpdate

DEFAULT_CARRIERS = {"sim": "chainstore.integrations.carriers.simulated.SimulatedCarrier"}


def _registered() -> dict[str, str]:
    return dict(getattr(settings, "CHAINSTORE_CARRIERS", DEFAULT_CARRIERS))


def get_carrier(code: str) -> CarrierAdapter:
    """A fresh adapter for `code` (adapters are cheap and hold no per-request state).
    An unknown code is refused with `unknown_carrier` rather than a bare KeyError, because
    codes arrive from channels, the API and webhook URLs."""
    path = _registered().get(code or "")
    if path is None:
        raise ValidationFailed(
            _("Unknown carrier %(code)s.") % {"code": code},
            code="unknown_carrier",
            carrier=code,
            known=sorted(_registered()),
        )
    adapter: CarrierAdapter = import_string(path)()
    return adapter


def carrier_choices() -> list[tuple[str, str]]:
    """(code, display name) of every registered carrier, for forms and filters."""
    return [(code, str(get_carrier(code).name)) for code in sorted(_registered())]


# Other documents that ship with carriers (transfers, ...) register a recorder here at app
# start. The carrier webhook's owner (online-order parcels) offers each recorder the updates
# whose tracking numbers are not its own. A recorder takes (carrier_code, updates) and
# returns counts {"recorded", "duplicates", "matched": [tracking numbers it owns]}.
TrackingRecorder = Callable[[str, Sequence[TrackingUpdate]], dict[str, Any]]
_recorders: list[TrackingRecorder] = []


def register_tracking_recorder(recorder: TrackingRecorder) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def tracking_recorders() -> list[TrackingRecorder]:
    return list(_recorders)
