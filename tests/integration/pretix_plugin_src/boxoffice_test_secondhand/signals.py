from django.dispatch import receiver
from django.utils.html import format_html

from pretix.multidomain.urlreverse import eventreverse
from pretix.presale.signals import front_page_top


@receiver(front_page_top, dispatch_uid="boxoffice_secondhand_front_page_top")
def marketplace_link(sender, request=None, subevent=None, **kwargs):
    url = eventreverse(sender, "plugins:boxoffice_test_secondhand:index")
    return format_html(
        '<div class="alert alert-info secondhand-link">Sold out? Fans resell tickets at face value on '
        'our <a href="{}">secondhand marketplace</a>.</div>',
        url,
    )
