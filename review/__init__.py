"""Review: campaigns, assignment under leases, ratings, pairwise comparisons, blind tests, gold items,
agreement and reviewer quality, exports."""
