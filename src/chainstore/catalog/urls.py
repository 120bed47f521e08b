from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "catalog"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("catalog")


urlpatterns = [path("", placeholder, name="index")]
