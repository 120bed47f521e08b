from chainstore.pos.tests.views.shop import shop

__all__ = ["shop"]
