from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "chainstore.transfers"
    label = "transfers"
    verbose_name = "Transfers between sites"

    def ready(self) -> None:
        """Carrier tracking for a transfer's tracking number is recorded on the transfer."""
        from chainstore.integrations.carriers.registry import register_tracking_recorder
        from chainstore.transfers.services.tracking import record_transfer_tracking

        register_tracking_recorder(record_transfer_tracking)
