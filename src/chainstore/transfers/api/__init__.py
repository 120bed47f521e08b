"""The transfers API (/api/v1/transfers/...): the routers of the modules below."""

from chainstore.transfers.api import costs, execution, requests

routers = [requests.router, execution.router, costs.router]
