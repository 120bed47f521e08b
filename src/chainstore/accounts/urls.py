from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "accounts"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("accounts")


urlpatterns = [path("", placeholder, name="index")]
