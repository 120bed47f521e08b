"""/api/v1/fulfilment/... (outbound)."""

from ninja import Router

router = Router()
