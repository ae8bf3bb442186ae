# ruff: noqa: E501  (HTML as pretix writes it)
"""Marketplace pages in the structure a real pretix (2026.8) renders, for the parse benches.

Head with stylesheets/scripts/icons, page header, the "How it works" info panel, one
``panel panel-default`` per listing whose buy form is written ``<form method="post"`` ⏎
``action="https://…/secondhand/buy/<id>/">`` (an absolute action on the next line, as
pretix's own templates do), the footer, the modal dialogs and the i18n JSON tail. The JSON
tail is sized so the page reaches the asked size.
"""

from __future__ import annotations

import json

ORIGIN = "https://tickets.example.com"
EVENT = "boxoffice/resale26"
URL = f"{ORIGIN}/{EVENT}/secondhand/?sort=price_asc"
TOKEN = "avHb6btoQmnIRD9jOAN04rJAaeRBkUiM8dUpvDpYKNXEXq6x2FW7B9Oy7rGAWbOS"

_HEAD = f"""<!DOCTYPE html>
<html lang="en">
<head>
    <title>
    Secondhand marketplace :: Resale Festival 2026
</title>
    <link rel="stylesheet" href="/static/CACHE/css/presale.ceb4b3a2f08a.css" type="text/css">
        <link rel="stylesheet" type="text/css" href="/{EVENT}/theme.css?version=c534d21b5f04-1796248793-1796248793" />
<script src="/static/CACHE/js/presale.89fc5419e752.js"></script>
    <meta name="referrer" content="origin">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta property="og:type" content="website" />
        <link rel="icon" href="/static/pretixbase/img/favicon.e9b4f7d70340.ico">
        <link rel="shortcut icon" href="/static/pretixbase/img/favicon.e9b4f7d70340.ico">
        <link rel="icon" type="image/png" sizes="16x16" href="/static/pretixbase/img/icons/favicon-16x16.d9c6017a4222.png">
        <link rel="icon" type="image/png" sizes="32x32" href="/static/pretixbase/img/icons/favicon-32x32.5066e55d61de.png">
        <link rel="icon" type="image/png" sizes="192x192" href="/static/pretixbase/img/icons/android-chrome-192x192.7d21acc539fe.png">
        <link rel="apple-touch-icon" sizes="180x180" href="/static/pretixbase/img/icons/apple-touch-icon.332c189bb6df.png">
    <meta name="theme-color" content="#8E44B3">
</head>
<body class="nojs" data-locale="en" data-now="1796248793.441920" data-datetimeformat="YYYY-MM-DD HH:mm" data-timeformat="HH:mm" data-dateformat="YYYY-MM-DD" data-datetimelocale="en" data-currency="EUR">
<nav id="skip-to-main" role="navigation" aria-label="Skip link" class="sr-only on-focus-visible">
  <p><a href="#content">Skip to main content</a></p>
</nav>
<header>
    <div class="container page-header-links page-header-links-outside">
        <div class="clearfix"></div>
    </div>
</header>
<div class="container main-box">
    <main id="content">
    <div class="page-header">
        <div class="pull-left flip">
                <h1>
                    <a href="/{EVENT}/" class="no-underline">Resale Festival 2026
                        <small class="text-muted"><time datetime="2027-01-31">Sun, Jan. 31, 2027</time></small>
                    </a>
                </h1>
        </div>
        <div class="clearfix"></div>
    </div>
    <h2>Secondhand marketplace</h2>
    <div class="panel panel-info">
        <div class="panel-heading">
            <h3 class="panel-title">How it works</h3>
        </div>
        <div class="panel-body">
            <p>Fans who cannot attend resell their tickets here at face value. The first person to
               click "Buy" gets the ticket into their cart and has the usual reservation time to
               complete the checkout.</p>
        </div>
    </div>
"""

_LISTING = """
        <div class="panel panel-default">
            <div class="panel-heading">
                <h3 class="panel-title">{title}</h3>
            </div>
            <div class="panel-body">
                <h2 class="text-primary">{price}</h2>
                <p class="text-muted">Listed 2026-12-02 21:59</p>
                <form method="post"
                      action="{origin}/{event}/secondhand/buy/{id}/">
                    <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
                    <button type="submit" class="btn btn-primary">Buy</button>
                </form>
            </div>
        </div>
"""

_EMPTY = """
        <div class="alert alert-info">No tickets available at the moment. Please check back later.</div>
"""

_DIALOG = """
    <dialog role="alertdialog"
        id="dialog-{name}" class="modal-card"
        aria-labelledby="dialog-{name}-title"
        aria-describedby="dialog-{name}-description">
        <form method="dialog" class="modal-card-inner form-horizontal">
            <div class="modal-card-icon"><span class="fa fa-clock-o" aria-hidden="true"></span></div>
            <div class="modal-card-content">
                <h2 id="dialog-{name}-title" class="modal-card-title h3"></h2>
                <p id="dialog-{name}-description" class="modal-card-description"></p>
    <p class="modal-card-confirm"><button class="btn btn-lg btn-primary">OK</button></p>
            </div>
        </form>
    </dialog>
"""

_FOOT = """
    </main>
    <footer>
        <nav aria-label="Footer Navigation">
            <ul>
            <li><a href="/redirect/?url=https%3A//pretix.eu%3AucIIQBwDQJHPkXxVozzNOb9JEbfpVAgw6bbhxj-Px10" target="_blank" rel="noopener">ticketing powered by pretix</a></li>
            </ul>
        </nav>
    </footer>
</div>
<div id="ajaxerr" class="modal-wrapper" hidden>
</div>
"""

_I18N_WORDS = (
    "Renew reservation", "Your cart has expired", "The items in your cart are reserved for you",
    "Add to cart", "Quantity", "Please enter a valid email address", "Required field",
    "Sold out", "Reserved", "Continue", "Back", "Checkout", "Payment", "Confirm order",
)  # fmt: skip


def _i18n_tail(size: int) -> str:
    """``<script type="application/json" id="i18n">`` of about ``size`` characters."""
    catalog: dict[str, str] = {}
    n = 0
    while len(json.dumps(catalog)) < size:
        word = _I18N_WORDS[n % len(_I18N_WORDS)]
        catalog[f"{word} ({n})"] = f"{word} ({n})"
        n += 1
    return f'<script type="application/json" id="i18n">{json.dumps(catalog)}</script>\n'


def listing(n: int, *, token: str = TOKEN) -> str:
    """The panel of listing ``n`` (ids from 101, prices rising)."""
    title = ("Standard", "VIP", "Camping", "Weekend – Standard")[n % 4]
    return _LISTING.format(
        title=title, price=f"€{40 + 5 * n}.00", origin=ORIGIN, event=EVENT, id=101 + n, token=token
    )


def page(listings: int, kib: float, *, token: str = TOKEN) -> str:
    """A marketplace page with ``listings`` panels, padded to about ``kib`` KiB."""
    body = "".join(listing(n, token=token) for n in range(listings)) if listings else _EMPTY
    dialogs = "".join(_DIALOG.format(name=n) for n in ("cart-extend", "cart-extended", "nothing"))
    start = _HEAD + body + _FOOT + dialogs
    end = '<script src="/static/jsi18n/en/djangojs.4af7c92927af.js"></script>\n</body>\n</html>\n'
    room = int(kib * 1024) - len((start + end).encode())
    tail = _i18n_tail(room - 60) if room > 200 else ""
    return start + tail + end
