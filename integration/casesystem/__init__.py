"""The case-system adapter: tickets out through a transactional outbox, status changes in by signed webhook."""
