"""One module per feature; each consumer handles one socket's life."""
