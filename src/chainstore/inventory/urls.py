from django.urls import path

from chainstore.inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.index, name="index"),
    path("putaway/", views.putaway, name="putaway"),
    path("move/", views.move, name="move"),
    path("adjust/", views.adjust, name="adjust"),
    path("issue/", views.issue, name="issue"),
    path("safety-stock/", views.safety_stock, name="safety_stock"),
    path("lots/", views.lots, name="lots"),
    path("lots/<int:lot_id>/expiry/", views.lot_expiry, name="lot_expiry"),
]
