from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "chainstore.pos"
    label = "pos"
    verbose_name = "Store POS"
