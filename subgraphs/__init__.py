"""One package per subgraph; each builds its own Federation v2 schema."""
