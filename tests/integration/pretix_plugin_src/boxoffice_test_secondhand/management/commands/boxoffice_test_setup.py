"""Create the shop the boxoffice tests run against and print it as JSON.

Organizer ``boxoffice``, live event ``resale26`` with two items (Standard, VIP) on quotas, bank
transfer enabled on organizer and event, ``redirect_to_checkout_directly`` on, and the secondhand
marketplace plugin active.
"""

import json
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils.timezone import now
from django_scopes import scopes_disabled

from pretix.base.models import Event, Item, Organizer, Quota

PLUGINS = ("pretix.plugins.banktransfer", "boxoffice_test_secondhand")


class Command(BaseCommand):
    help = "Create the boxoffice test shop (idempotent) and print its ids as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--organizer", default="boxoffice")
        parser.add_argument("--event", default="resale26")

    @scopes_disabled()
    def handle(self, *args, **options):
        org, _ = Organizer.objects.get_or_create(
            slug=options["organizer"], defaults={"name": "Boxoffice Test Tickets"}
        )
        org.enable_plugin("pretix.plugins.banktransfer")
        org.save()
        event = Event.objects.filter(organizer=org, slug=options["event"]).first()
        if event is None:
            event = Event.objects.create(
                organizer=org,
                slug=options["event"],
                name="Resale Festival 2026",
                currency="EUR",
                date_from=now() + timedelta(days=60),
                live=True,
            )
        for plugin in PLUGINS:
            event.enable_plugin(plugin)
        event.live = True
        event.save()
        event.settings.set("redirect_to_checkout_directly", True)
        event.settings.set("payment_banktransfer__enabled", True)
        event.settings.set("payment_banktransfer_bank_details_type", "other")
        event.settings.set("payment_banktransfer_bank_details", "Boxoffice Test Bank, test only")
        event.settings.set("attendee_names_asked", False)
        event.settings.set("invoice_address_asked", False)

        items = {}
        for name, price, size in (("Standard", "45.00", 100), ("VIP", "120.00", 20)):
            item = Item.objects.filter(event=event, name__icontains=name).first()
            if item is None:
                item = Item.objects.create(
                    event=event, name=name, default_price=Decimal(price), admission=True
                )
                quota = Quota.objects.create(event=event, name=name, size=size)
                quota.items.add(item)
            items[name] = item.pk
        print(json.dumps({"organizer": org.slug, "event": event.slug, "items": items}))
