"""Monitoring: the held-out evaluation of generator versions (report and metric snapshots), fairness
by group, alerts, dashboards and exports. It reads every app; no app imports it."""
