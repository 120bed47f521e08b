"""/api/v1/fulfilment/... (orders)."""

from ninja import Router

router = Router()
