"""The agent directory: agents (工号, name, seat, team, skills and levels, phone kind, active) and teams in the
database, managed over the API; the dialplan file's `agents:` seed it once. Every change reaches the ACD at
once and Asterisk's phone configs within a second (one render and PJSIP reload for a burst of changes)."""
