"""The POS API (/api/v1/pos/...): the routers of the modules below, all mounted at /pos."""

from chainstore.pos.api import admin, catalog, returns, sales, shifts

routers = [sales.router, returns.router, shifts.router, admin.router, catalog.router]
