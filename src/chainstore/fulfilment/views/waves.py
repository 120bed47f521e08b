"""Screens: waves."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
