"""/api/v1/transfers/... (costs)."""

from ninja import Router

router = Router()
