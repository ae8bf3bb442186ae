from django.urls import path, re_path

from . import admin_api, views

event_patterns = [
    re_path(r"^secondhand/$", views.MarketplaceView.as_view(), name="index"),
    re_path(r"^secondhand/buy/(?P<listing>\d+)/$", views.BuyView.as_view(), name="buy"),
]

urlpatterns = [
    path("_boxoffice_test/listings", admin_api.listings, name="api.listings"),
    path("_boxoffice_test/listings/<int:listing>", admin_api.listing, name="api.listing"),
    path("_boxoffice_test/marketplace", admin_api.marketplace, name="api.marketplace"),
    path("_boxoffice_test/carts", admin_api.carts, name="api.carts"),
]
