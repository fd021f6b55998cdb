"""The engine every feature shares: publish and the hub, the outbox, transport,
presence, the base sockets and the envelope, the origin check, lifecycle,
outages, metrics and sessions. Nothing here imports a feature."""
