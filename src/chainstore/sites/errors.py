from chainstore.core.errors import NotFound


class SiteNotFound(NotFound):
    code = "site_not_found"
    default_message = "Site not found."


class LocationNotFound(NotFound):
    code = "location_not_found"
    default_message = "Location not found."
