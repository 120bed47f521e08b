from chainstore.fulfilment.views import orders, outbound, waves

app_name = "fulfilment"

urlpatterns = [*orders.urlpatterns, *waves.urlpatterns, *outbound.urlpatterns]
