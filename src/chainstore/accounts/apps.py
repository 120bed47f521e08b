from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chainstore.accounts"
    label = "accounts"
