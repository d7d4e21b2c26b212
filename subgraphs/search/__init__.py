"""Search subgraph: discovery over the catalog; contributes ranking fields to Service."""
