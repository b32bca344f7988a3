"""Projects: a session's settings in one versioned file (and reports on them). Top of core."""
