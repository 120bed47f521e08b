"""/api/v1/transfers/... (execution)."""

from ninja import Router

router = Router()
