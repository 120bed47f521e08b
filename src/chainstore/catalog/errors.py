from chainstore.core.errors import NotFound, ValidationFailed


class InvalidBarcode(ValidationFailed):
    code = "invalid_barcode"
    default_message = "The barcode is not valid."


class UnknownBarcode(NotFound):
    code = "unknown_barcode"
    default_message = "No SKU has this barcode."


class SkuNotFound(NotFound):
    code = "sku_not_found"
    default_message = "SKU not found."
