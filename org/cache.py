"""Per-process copies of small, rarely edited tables, in Django's local-memory cache."""

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

# ---------------------------------------------------------------------------------------------- per-process copies
# Small tables that admins rarely edit but every request or intake reads (the signed-in user's region and
# department, categories, Open311 services, contact time limits, calendar overrides) live in Django's
# local-memory cache, `caches["local"]`: each process keeps a copy for that cache's TIMEOUT (60 s). Saving
# or deleting a row clears this process's copy at once and again after the commit (forget_on_change); the
# other processes see the edit within the timeout.


def per_process(key: str, build):
    """This process's copy of `key`, built by `build()` when missing or expired."""
    return caches["local"].get_or_set(key, build)


def forget_on_change(model, *keys, uid: str) -> None:
    """When a `model` row is saved or deleted, forget `keys` (strings, or functions of the row that give one):
    now (this transaction sees its own change) and again after the commit. `uid` names the receivers."""

    def forget(instance=None, **kwargs):
        names = [key(instance) if callable(key) else key for key in keys]
        local = caches["local"]
        local.delete_many(names)
        transaction.on_commit(lambda: local.delete_many(names))

    post_save.connect(forget, sender=model, weak=False, dispatch_uid=f"{uid}.save")
    post_delete.connect(forget, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
