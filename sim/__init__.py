"""SimPy model of the promotion. Pure: no sockets, no files, no Locust."""
