from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "chainstore.transfers"
    label = "transfers"
    verbose_name = "Transfers between sites"
