"""Citizen-facing FastAGI call flows and prompts."""
