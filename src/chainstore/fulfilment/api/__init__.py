"""The online-orders API (/api/v1/fulfilment/...): the routers of the modules below."""

from chainstore.fulfilment.api import orders, outbound, waves

routers = [orders.router, waves.router, outbound.router]
