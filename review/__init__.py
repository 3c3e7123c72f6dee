"""Review campaigns, assignments, ratings, comparisons, blind tests and agreement (issue 5)."""
