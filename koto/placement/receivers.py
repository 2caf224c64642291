"""The placement app's answers to the registry's signals (`koto.clients.signals`)."""

from django.dispatch import receiver

from koto.clients.signals import client_changed
from koto.placement.services import minor_care_follow_client


@receiver(client_changed, dispatch_uid="placement.minor_care_follow_client")
def _minor_care_follows_client(sender, *, client, actor, changed, **kwargs):
    minor_care_follow_client(actor=actor, client=client, changed=changed)
