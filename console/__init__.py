"""The management console: the live wallboard, the KPI reports and recording review for supervisors,
managers, quality staff and auditors (pages and their API)."""
