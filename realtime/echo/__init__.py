"""The echo playground: the echo socket, the handshake mirror, the page."""
