"""Site-wide pieces: the home page, sign-up, and the announcements socket."""
