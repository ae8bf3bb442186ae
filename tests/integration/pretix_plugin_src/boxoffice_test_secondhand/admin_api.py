"""Test-only control endpoints (token in the X-Boxoffice-Test-Token header).

The test process cannot import Django, so it manages listings over HTTP:
  POST   /_boxoffice_test/listings        {"organizer","event","item": id|name,"price"} -> listing
  GET    /_boxoffice_test/listings?organizer=&event=
  DELETE /_boxoffice_test/listings/<id>   (withdraw a listing)
  POST   /_boxoffice_test/marketplace     {"organizer","event","active": bool}
  GET    /_boxoffice_test/carts?organizer=&event=  -> cart positions (item, listing voucher)
"""

import hmac
import json
import os
import secrets
from decimal import Decimal

from django.db import transaction
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_scopes import scopes_disabled

from pretix.base.models import CartPosition, Event, Item, Voucher

from .models import Listing

PLUGIN = "boxoffice_test_secondhand"


def _authorised(request):
    expected = os.environ.get("BOXOFFICE_TEST_TOKEN", "")
    given = request.headers.get("X-Boxoffice-Test-Token", "")
    return bool(expected) and hmac.compare_digest(expected, given)


def _event(data):
    return Event.objects.get(organizer__slug=data["organizer"], slug=data["event"])


def _as_json(listing):
    return {
        "id": listing.pk,
        "item": str(listing.item.name),
        "item_id": listing.item_id,
        "price": str(listing.price),
        "state": listing.state,
        "buy_path": f"/{listing.event.organizer.slug}/{listing.event.slug}/secondhand/buy/{listing.pk}/",
    }


def _guard(view):
    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        if not _authorised(request):
            return HttpResponseForbidden("bad or missing X-Boxoffice-Test-Token")
        with scopes_disabled():
            try:
                return view(request, *args, **kwargs)
            except (Event.DoesNotExist, Item.DoesNotExist, Listing.DoesNotExist) as exc:
                return JsonResponse({"error": str(exc)}, status=404)
            except (KeyError, ValueError) as exc:
                return JsonResponse({"error": f"bad request: {exc!r}"}, status=400)

    return wrapped


@_guard
def listings(request):
    if request.method == "GET":
        event = _event(request.GET)
        rows = Listing.objects.filter(event=event).select_related("item", "event__organizer")
        return JsonResponse({"listings": [_as_json(r) for r in rows]})
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    data = json.loads(request.body)
    event = _event(data)
    ref = data["item"]
    item = (
        event.items.get(pk=int(ref)) if str(ref).isdigit() else event.items.get(name__icontains=ref)
    )
    price = Decimal(str(data.get("price", item.default_price)))
    with transaction.atomic():
        voucher = Voucher.objects.create(
            event=event,
            code="RESALE" + secrets.token_hex(6).upper(),
            max_usages=1,
            block_quota=True,
            item=item,
            price_mode="set",
            value=price,
            tag="secondhand",
            show_hidden_items=True,
        )
        listing = Listing.objects.create(event=event, item=item, voucher=voucher, price=price)
    listing = Listing.objects.select_related("item", "event__organizer").get(pk=listing.pk)
    return JsonResponse(_as_json(listing), status=201)


@_guard
def listing(request, listing):
    row = Listing.objects.select_related("item", "event__organizer", "voucher").get(pk=listing)
    if request.method == "GET":
        return JsonResponse(_as_json(row))
    if request.method != "DELETE":
        return JsonResponse({"error": "method not allowed"}, status=405)
    voucher = row.voucher
    row.delete()
    if not CartPosition.objects.filter(voucher=voucher).exists():
        voucher.delete()
    return JsonResponse({"deleted": listing})


@_guard
def marketplace(request):
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    data = json.loads(request.body)
    event = _event(data)
    if data["active"]:
        event.enable_plugin(PLUGIN)
    else:
        event.disable_plugin(PLUGIN)
    event.save()
    return JsonResponse({"active": PLUGIN in event.get_plugins()})


@_guard
def carts(request):
    event = _event(request.GET)
    rows = CartPosition.objects.filter(event=event).select_related("item", "voucher")
    return JsonResponse({
        "positions": [
            {
                "cart_id": p.cart_id,
                "item": str(p.item.name),
                "price": str(p.price),
                "voucher": p.voucher.code if p.voucher else None,
            }
            for p in rows
        ]
    })
