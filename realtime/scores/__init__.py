"""Live sports scores and the match simulator."""
