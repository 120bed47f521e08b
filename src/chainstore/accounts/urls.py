from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<int:user_id>/", views.detail, name="detail"),
    path("<int:user_id>/role/", views.update_role, name="update_role"),
    path("<int:user_id>/password/", views.reset_password, name="reset_password"),
    path(
        "<int:user_id>/deactivate/",
        views.set_active,
        {"action": "deactivate"},
        name="deactivate",
    ),
    path(
        "<int:user_id>/reactivate/",
        views.set_active,
        {"action": "reactivate"},
        name="reactivate",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("password/", views.change_password, name="change_password"),
]
