"""Usage subgraph: consumers, plans, keys, metering; contributes usageStats to Service."""
