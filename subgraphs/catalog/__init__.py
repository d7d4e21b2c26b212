"""Catalog subgraph: owns the Service and Provider entities."""
