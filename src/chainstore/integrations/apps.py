from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "chainstore.integrations"
    label = "integrations"
