"""Search index backends behind one interface (see :mod:`persistence.search.base`)."""
