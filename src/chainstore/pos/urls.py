"""POS screens under /pos/: the till (checkout, returns, shifts) and back office."""

from chainstore.pos.views import admin, till

app_name = "pos"
urlpatterns = till.urlpatterns + admin.urlpatterns
