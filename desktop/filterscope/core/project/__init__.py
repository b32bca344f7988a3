"""Project files and run reports: what ties the other domains together, at the top of core."""
