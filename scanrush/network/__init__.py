"""Network profiles and the TCP request-latency model (simulated realisation)."""
