"""Automatic call distribution: queues, skills, agents, call control (issue 5)."""
