"""Capacity planning on top of the simulator: sweeps over ``--set`` grids, plan by bisection, what-if remediations.

Everything here runs replications through one `Executor` (a local process pool or an existing
Dask cluster) with common random numbers: every configuration is run with the same seed and
replication indices, so differences between configurations are paired, not drowned in noise.
"""
