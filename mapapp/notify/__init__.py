"""Notifications: an outbox written in the same transaction as the event it announces, and a worker."""
