from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import NotFound


class SiteNotFound(NotFound):
    code = "site_not_found"
    default_message = _("Site not found.")


class LocationNotFound(NotFound):
    code = "location_not_found"
    default_message = _("Location not found.")
