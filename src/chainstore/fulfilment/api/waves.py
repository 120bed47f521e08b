"""/api/v1/fulfilment/... (waves)."""

from ninja import Router

router = Router()
