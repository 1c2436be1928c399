"""Hot-issue announcements (热点播报): what supervisors publish for callers to hear after the greeting."""
