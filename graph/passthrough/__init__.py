"""The metered REST passthrough: ``ANY /v1/services/{service_slug}/{path}``."""
