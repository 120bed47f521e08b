from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "counts"


def placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("counts")


urlpatterns = [path("", placeholder, name="index")]
