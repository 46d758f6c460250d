"""The shared payment domain, sans-I/O: used unchanged by the simulator and the live path."""
