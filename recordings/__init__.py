"""Recording capture, processing, storage and access (issue 6)."""
