from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "chainstore.web"
    label = "web"
