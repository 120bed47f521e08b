from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "integrations"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("integrations")


urlpatterns = [path("", placeholder, name="index")]
