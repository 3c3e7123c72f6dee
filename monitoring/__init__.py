"""Quality snapshots, fairness reports and dashboards (issue 7)."""
