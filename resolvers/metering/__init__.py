"""Metering: rate limiters, quota and budget reservations, and the durable usage writer."""
