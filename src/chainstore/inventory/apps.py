from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "chainstore.inventory"
    label = "inventory"
