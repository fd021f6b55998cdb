"""``/ws/site/``: the one site-wide socket every page opens.

It carries the site's announcements to everyone and the header badge; for a
logged-in visitor it is also their notification stream (the bell) and the
socket a logout closes. A page then opens at most two sockets: this one and
its feature's own.
"""

from realtime.notifications.consumers import NotificationSocket
from realtime.site.protocol import TOPIC


class SiteSocket(NotificationSocket):
    """Announcements for anyone; ``notifications.*`` frames for the logged in."""

    async def connect(self):
        """Anyone may listen; an account also gets its notifications here."""
        user = self.scope.get("user")
        self.user_id = None
        if user is not None and user.is_authenticated:
            self.start_for(user)
        await self.accept()
        await self.follow(TOPIC)

    def handlers(self):
        return super().handlers() if self.user_id is not None else {}
