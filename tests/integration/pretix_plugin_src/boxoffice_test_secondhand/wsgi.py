"""WSGI entry for gunicorn: pretix wrapped in WhiteNoise (pretix serves no /static/ with DEBUG off)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boxoffice_test_secondhand.pretix_settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from whitenoise import WhiteNoise  # noqa: E402

application = WhiteNoise(
    get_wsgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL, max_age=3600
)
