"""Quality review (质检) of recorded calls: the flagged calls, the score sheet, scores and comments."""
