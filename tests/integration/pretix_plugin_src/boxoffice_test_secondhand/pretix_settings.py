"""Django settings for the boxoffice test pretix: pretix's own settings plus a fast schema build.

Migration modules are disabled so ``migrate --run-syncdb`` creates every table directly from the
models (~10 s instead of ~110 s for pretix's full migration history). Everything else is pretix's
production configuration from pretix.cfg (DEBUG off, CSRF on, ``__Host-`` cookies over HTTPS).
"""

from pretix.settings import *  # noqa: F401,F403
from pretix.settings import DATABASES


class _DisableMigrations:
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


MIGRATION_MODULES = _DisableMigrations()

# Tests poll and buy concurrently on one SQLite file: wait for locks instead of failing.
DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
