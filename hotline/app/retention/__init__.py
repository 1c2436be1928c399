"""Retention beyond audio: one coordinator that runs every domain's sweep, the daily worker and
`hotline retention run`. (Stored audio has its own: recordings.retention, run by the recording worker.)"""
