from django.urls import path

from chainstore.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.index, name="index"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("skus/new/", views.sku_create, name="sku_create"),
    path("skus/<int:pk>/edit/", views.sku_edit, name="sku_edit"),
    path("skus/<int:pk>/barcodes/new/", views.barcode_add, name="barcode_add"),
    path("skus/<int:pk>/label/", views.sku_label, name="sku_label"),
]
