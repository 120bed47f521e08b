from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "chainstore.fulfilment"
    label = "fulfilment"
    verbose_name = "Online orders and fulfilment"
