"""A reference case system for development, demos and tests: takes tickets, numbers them, moves their
status on a schedule or by its admin API, and reports every change to the hotline's webhook."""
