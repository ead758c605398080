from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="ircore.ensure_profile")
def ensure_profile(sender, instance, created, raw=False, **kwargs):
    """Every user has a profile, so pages can read ``user.profile`` without a check."""
    if created and not raw:
        Profile.objects.get_or_create(user=instance)
