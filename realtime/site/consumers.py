"""The socket every page opens: site-wide announcements, and the header badge."""

from realtime.core.sockets import JsonSocket
from realtime.site.protocol import TOPIC


class SiteSocket(JsonSocket):
    """Follow the site's announcements; clients only ping."""

    async def connect(self):
        """Anyone may listen."""
        await self.accept()
        await self.follow(TOPIC)
