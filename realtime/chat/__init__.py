"""Chat rooms: history, presence, typing, mentions, images, moderation."""
