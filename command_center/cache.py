"""The cache backend: Django's RedisCache with one Redis client (and connection pool) per process.

Django builds a cache object per request context, and under ASGI every request is a context of its own:
with the stock backend each request opened a new TCP connection to Redis (and its handshake) the first
time it touched the cache. The stock client also builds a new redis-py `Redis` object for every cache call,
which costs as much CPU as the command it sends. redis-py's client and pool are thread-safe, so the process
shares one client object per server."""

import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.functional import cached_property

_clients: dict = {}
_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:
            with _lock:
                client = self._redis_clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]


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
