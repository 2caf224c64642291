"""What the registry tells the apps above it, which it may not import (the layers)."""

from django.dispatch import Signal

# Sent by `client_update` inside its transaction, once a change is saved and its facts
# recorded: `client` (saved), `actor`, `changed` (a frozenset of the field names changed). A
# receiver that raises undoes the change with its own writes: nothing is half-written.
client_changed = Signal()

# Sent by `client_create` inside its transaction, once the client and its facts are saved:
# `client`, `actor`. (An import writes in bulk and sends none: the nightly deadline sweep
# takes the clients created or changed since its last run.)
client_created = Signal()

# Sent by the referrals app inside its transaction when a transfer is accepted (the client
# moved): `client` (now the receiving organisation's), `from_organisations` (the ids of the
# sending side: the responsible organisation and a producer keeping its records),
# `to_organisation`, `counsellor` (who accepted and now has the client), `referral_id`. The
# plans app moves the sending side's open plans over; a receiver that raises undoes it all.
client_transferred = Signal()
