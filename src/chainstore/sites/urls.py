from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "sites"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sites")


urlpatterns = [path("", placeholder, name="index")]
