"""/api/v1/transfers/... (requests)."""

from ninja import Router

router = Router()
