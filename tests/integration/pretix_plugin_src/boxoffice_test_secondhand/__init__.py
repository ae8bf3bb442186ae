"""boxoffice test-only pretix plugin: a secondhand marketplace on a real pretix event.

Not for production. It exists so boxoffice's `watch` job can be tested end to end against real
pretix: a listing is one unit of a product held back by a quota-blocking voucher; buying it puts
that product into the visitor's cart with pretix's own CartManager and redirects to checkout.
"""

__version__ = "0.1.0"
default_app_config = "boxoffice_test_secondhand.apps.SecondhandApp"
