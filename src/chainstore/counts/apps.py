from django.apps import AppConfig


class CountsConfig(AppConfig):
    name = "chainstore.counts"
    label = "counts"
