"""The three ways a report is made: a scan, a check of named trust stores, a live probe. Each runs the stages
(collect, trust, probe, checks) and returns the report."""
