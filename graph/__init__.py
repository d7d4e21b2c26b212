"""The gateway process: settings, auth, request context, composition, HTTP app and CLI."""
