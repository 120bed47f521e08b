"""Screens: costs."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
