from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "chainstore.sites"
    label = "sites"
