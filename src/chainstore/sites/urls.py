from django.urls import path

from chainstore.sites import views

app_name = "sites"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.site_create, name="site_create"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/edit/", views.site_edit, name="site_edit"),
    path("<str:code>/layout/", views.layout, name="layout"),
    path("<str:code>/zones/new/", views.zone_create, name="zone_create"),
    path("<str:code>/bins/new/", views.bin_create, name="bin_create"),
    path("<str:code>/bins/grid/", views.bin_grid, name="bin_grid"),
    path("<str:code>/bins/<int:pk>/<str:action>/", views.bin_status, name="bin_status"),
]
