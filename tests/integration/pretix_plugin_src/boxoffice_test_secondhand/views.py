from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from pretix.base.services.cart import CartError, CartManager
from pretix.multidomain.urlreverse import eventreverse
from pretix.presale.views import EventViewMixin
from pretix.presale.views.cart import get_or_create_cart_id

from .models import Listing


def marketplace_url(event):
    return eventreverse(event, "plugins:boxoffice_test_secondhand:index")


class MarketplaceView(EventViewMixin, TemplateView):
    """The listing page: an info box, then one panel per available listing."""

    template_name = "boxoffice_test_secondhand/marketplace.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        listings = Listing.objects.filter(
            event=self.request.event, state=Listing.STATE_AVAILABLE
        ).select_related("item")
        if self.request.GET.get("sort") == "price_asc":
            listings = listings.order_by("price", "id")
        ctx["listings"] = list(listings)
        ctx["currency"] = self.request.event.currency
        return ctx


class BuyView(EventViewMixin, View):
    """POST: take the listing and put its held product into this session's cart."""

    def get(self, request, *args, **kwargs):
        return redirect(marketplace_url(request.event))

    def post(self, request, *args, **kwargs):
        back = marketplace_url(request.event)
        with transaction.atomic():
            taken = Listing.objects.filter(
                pk=kwargs["listing"], event=request.event, state=Listing.STATE_AVAILABLE
            ).update(state=Listing.STATE_SOLD)
        if not taken:
            messages.error(request, "Sorry, this ticket is no longer available.")
            return redirect(back)
        listing = Listing.objects.select_related("voucher").get(pk=kwargs["listing"])
        cart_id = get_or_create_cart_id(request)
        try:
            manager = CartManager(
                event=request.event, cart_id=cart_id, sales_channel=request.sales_channel
            )
            manager.add_new_items([{
                "item": listing.item_id,
                "variation": None,
                "count": 1,
                "price": "",
                "voucher": listing.voucher.code,
                "voucher_ignore_if_redeemed": False,
                "subevent": None,
            }])
            manager.commit()
        except CartError as exc:
            Listing.objects.filter(pk=listing.pk).update(state=Listing.STATE_AVAILABLE)
            messages.error(request, str(exc))
            return redirect(back)
        messages.success(request, "The ticket has been added to your cart.")
        return redirect(eventreverse(request.event, "presale:event.checkout.start"))
