from django.urls import path

from . import views

app_name = "counts"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<int:count_id>/", views.detail, name="detail"),
    path("<int:count_id>/scan/", views.scan, name="scan"),
    path("<int:count_id>/scan/record/", views.record, name="record"),
    path(
        "<int:count_id>/<str:name>/",
        views.action,
        name="action",
    ),
]
