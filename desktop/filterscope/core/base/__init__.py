"""Foundations every domain uses: the job protocol, atomic file writes, app folders."""
