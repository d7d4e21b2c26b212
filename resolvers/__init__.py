"""Domain logic the GraphQL fields call, and the DataLoaders that batch their reads."""
