from django.contrib.auth import views as auth_views
from django.urls import include, path

from chainstore.web import audit, receiving, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("skus/", views.sku_list, name="sku_list"),
    path("skus/<int:pk>/", views.sku_detail, name="sku_detail"),
    path("stock/", views.site_stock, name="site_stock"),
    path("receiving/", receiving.receiving, name="receiving"),
    path("receiving/scan/", receiving.scan, name="receiving_scan"),
    path("expiring/", views.expiring_lots, name="expiring_lots"),
    path("alerts/safety-stock/", views.safety_alerts, name="safety_alerts"),
    path("audit/", audit.audit_trail, name="audit_trail"),
    path("counts/", include("chainstore.counts.urls")),
    path("ops/", include("chainstore.inventory.urls")),
    path("catalog/", include("chainstore.catalog.urls")),
    path("sites/", include("chainstore.sites.urls")),
    path("accounts/", include("chainstore.accounts.urls")),
    path("data/", include("chainstore.integrations.urls")),
    path("pos/", include("chainstore.pos.urls")),
    path("fulfilment/", include("chainstore.fulfilment.urls")),
    path("transfers/", include("chainstore.transfers.urls")),
]
