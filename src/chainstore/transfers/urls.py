import chainstore.transfers.converters  # noqa: F401  (registers transfer_number)
from chainstore.transfers.views import costs, execution, requests

app_name = "transfers"

urlpatterns = [*requests.urlpatterns, *execution.urlpatterns, *costs.urlpatterns]
