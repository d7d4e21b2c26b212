"""Live governance events: the event bus, the outbox relay and the per-subscriber fan-out."""
