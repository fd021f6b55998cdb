"""Stock and fund quotes, their polling twin, and the market simulator."""
