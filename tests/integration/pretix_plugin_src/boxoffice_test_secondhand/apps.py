from django.apps import AppConfig

from . import __version__


class SecondhandApp(AppConfig):
    name = "boxoffice_test_secondhand"
    verbose_name = "boxoffice test secondhand marketplace"
    default = True

    class PretixPluginMeta:
        name = "Secondhand marketplace (boxoffice test plugin)"
        author = "boxoffice"
        version = __version__
        category = "FEATURE"
        visible = True
        description = "Test-only resale marketplace page at /<organizer>/<event>/secondhand/."

    def ready(self):
        from . import signals  # noqa: F401
