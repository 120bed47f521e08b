from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "chainstore.demo"
    label = "demo"
