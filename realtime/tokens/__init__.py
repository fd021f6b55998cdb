"""Personal access tokens: how bots and command-line tools sign in."""
