"""Value types shared by several subgraphs (identical in each, as federation requires)."""
