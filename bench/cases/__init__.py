"""One module per benchmark case; each exposes `run(quick: bool) -> list[dict]`."""

CASES = [
    "service",
    "http_api",
    "hot_sku",
    "ledger_size",
    "count",
    "promotions",
    "pos_checkout",
    "routing",
    "sourcing",
    "orders_http",
    "transfers",
]
