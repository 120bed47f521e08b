from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "chainstore.catalog"
    label = "catalog"
