from chainstore.transfers.views import costs, execution, requests

app_name = "transfers"

urlpatterns = [*requests.urlpatterns, *execution.urlpatterns, *costs.urlpatterns]
