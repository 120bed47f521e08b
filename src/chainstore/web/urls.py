from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse("chainstore")


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("counts/", include("chainstore.counts.urls")),
    path("data/", include("chainstore.integrations.urls")),
]
