"""Notifications, follows and price alerts: a reliable stream per user."""
