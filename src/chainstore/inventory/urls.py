from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "inventory"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("inventory")


urlpatterns = [path("", placeholder, name="index")]
