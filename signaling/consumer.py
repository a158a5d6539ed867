from channels.generic.websocket import AsyncJsonWebsocketConsumer


class RoomConsumer(AsyncJsonWebsocketConsumer):  # Replaced by the signaling work.
    async def connect(self):
        await self.close(code=4404)
