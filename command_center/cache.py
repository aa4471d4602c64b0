"""The cache backend: Django's RedisCache with one Redis client (and connection pool) per process.

Django builds a cache object per request context, and under ASGI every request is a context of its own:
with the stock backend each request opened a new TCP connection to Redis (and its handshake) the first
time it touched the cache. The client and its redis-py pool are thread-safe, so the process shares one."""

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
