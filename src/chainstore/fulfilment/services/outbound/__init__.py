"""The outbound check (复核), packing and shipping of a picked shipment.

PICKED -> (scan every unit against what was picked, lot by lot) -> CHECKED (weighed) ->
PACKED (parcels, lots from the check) -> SHIPPED (a carrier label per parcel, stock posted
from the site's OUTBOUND staging to the customer). Each step is one transaction that
re-checks the state it starts from with a conditional update, writes the timeline event and
the audit row, and refreshes the order's status.

Modules: `reads` (finding shipments and parcels), `check`, `packing`, `shipping`, and
`_common` (locking, refusals, status changes). The public names are re-exported here.
"""

from chainstore.fulfilment.services.outbound._common import carrier_code
from chainstore.fulfilment.services.outbound.check import (
    WEIGHT_TOLERANCE_MIN_G,
    WEIGHT_TOLERANCE_PERCENT,
    CheckScanResult,
    check_scan,
    complete_check,
    expected_weight,
    reset_check,
    weight_tolerance,
)
from chainstore.fulfilment.services.outbound.packing import ParcelInput, pack
from chainstore.fulfilment.services.outbound.reads import find_for_check, get_parcel, get_shipment
from chainstore.fulfilment.services.outbound.shipping import CarrierFailed, ship

__all__ = [
    "WEIGHT_TOLERANCE_MIN_G",
    "WEIGHT_TOLERANCE_PERCENT",
    "CarrierFailed",
    "CheckScanResult",
    "ParcelInput",
    "carrier_code",
    "check_scan",
    "complete_check",
    "expected_weight",
    "find_for_check",
    "get_parcel",
    "get_shipment",
    "pack",
    "reset_check",
    "ship",
    "weight_tolerance",
]
