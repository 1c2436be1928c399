"""Tickets (工单): the form agents fill from a call, its catalogue, time limits and lifecycle."""
