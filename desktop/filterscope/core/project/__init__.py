"""Project files and run reports: what ties the other domains together, above them all."""
