from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from org.permissions import can
from .wall import wall_groups_for


class WallConsumer(AsyncJsonWebsocketConsumer):
    """Pushes outbox events of the user's scope; the page applies them over its snapshot.

    The socket carries what the /wall/ page shows, so it asks for the page's permission ("dashboard.wall"):
    4401 without a session, 4403 for a role that may not see the wall or has no scope."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not can(user, "dashboard.wall"):
            await self.close(code=4403)
            return
        self.groups_joined = await database_sync_to_async(wall_groups_for)(user)
        if not self.groups_joined:
            await self.close(code=4403)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "groups": self.groups_joined})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def wall_event(self, event):
        await self.send_json({k: v for k, v in event.items()} | {"type": "event"})
