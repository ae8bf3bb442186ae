from django.db import models


class Listing(models.Model):
    """One ticket offered for resale: a unit of ``item`` held by a quota-blocking voucher."""

    STATE_AVAILABLE = "available"
    STATE_SOLD = "sold"

    event = models.ForeignKey("pretixbase.Event", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("pretixbase.Item", on_delete=models.CASCADE, related_name="+")
    voucher = models.OneToOneField(
        "pretixbase.Voucher", on_delete=models.CASCADE, related_name="secondhand_listing"
    )
    price = models.DecimalField(max_digits=13, decimal_places=2)
    state = models.CharField(max_length=16, default=STATE_AVAILABLE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
