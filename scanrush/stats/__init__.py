"""Streaming statistics: mergeable histograms and confidence intervals."""
