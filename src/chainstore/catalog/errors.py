from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import NotFound, ValidationFailed


class InvalidBarcode(ValidationFailed):
    code = "invalid_barcode"
    default_message = _("The barcode is not valid.")


class UnknownBarcode(NotFound):
    code = "unknown_barcode"
    default_message = _("No SKU has this barcode.")


class SkuNotFound(NotFound):
    code = "sku_not_found"
    default_message = _("SKU not found.")
