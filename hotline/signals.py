"""Signals other apps listen to (hotline imports none of them)."""

from django.dispatch import Signal

# Sent inside the transaction that took a contact, with `contact`; receivers should defer work to on_commit.
contact_taken = Signal()
