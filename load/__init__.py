"""Live path: gateway stub, fault layer, Locust engine (see issue 3)."""
