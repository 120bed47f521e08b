from django.urls import path

from chainstore.integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("apply/", views.apply, name="apply"),
    path("template/<slug:dataset>.<slug:fmt>", views.template_download, name="template"),
    path("export/<slug:dataset>.<slug:fmt>", views.export_download, name="export"),
]
