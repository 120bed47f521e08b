"""The POS API (/api/v1/pos/...): one router assembled from the modules below."""

from ninja import Router

from chainstore.pos.api import admin, returns, sales, shifts

router = Router()
router.add_router("", sales.router)
router.add_router("", returns.router)
router.add_router("", shifts.router)
router.add_router("", admin.router)
