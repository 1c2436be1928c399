"""The access table: every action of the API, which roles may take it, and how far each reaches.

`own`: the agent's own calls, tickets and recordings (a caller's history: a caller the agent handled);
`team`: the supervisor's team (a supervisor with no team: the whole centre); `all`: everything. A ticket
belongs to whoever created it (`created_by`): a team supervisor reaches the tickets created by the team's
agents or by themself. A role not in a row is refused (403) and the refusal audited.
Routes name their action with `@guarded(...)`; `tests/app/test_access_table.py` checks that every route is
in this table and prints it into the README.
"""

from __future__ import annotations

from hotline.core.web.policy import Policy, Rule, Scope, rule

OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

RULES: tuple[Rule, ...] = (
    # the service itself (hotline/app/web.py)
    rule("tokens.rotate", "rotate an API token", admin=ALL),
    # people's accounts (hotline/core/accounts): one's own session, and users (a supervisor: their team's agents)
    rule("session.read", "see one's own session", agent=OWN, supervisor=OWN, engineer=OWN, auditor=OWN, admin=OWN,
         editor=OWN),
    rule("session.end", "sign out", agent=OWN, supervisor=OWN, engineer=OWN, auditor=OWN, admin=OWN, editor=OWN),
    rule("session.everywhere", "sign out everywhere", agent=OWN, supervisor=OWN, engineer=OWN, auditor=OWN,
         admin=OWN, editor=OWN),
    rule("session.password", "change one's own password", agent=OWN, supervisor=OWN, engineer=OWN, auditor=OWN,
         admin=OWN, editor=OWN),
    rule("users.list", "see user accounts", supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("users.read", "see a user account", supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("users.create", "create user accounts", supervisor=TEAM, admin=ALL),
    rule("users.disable", "disable a user account", supervisor=TEAM, admin=ALL),
    rule("users.enable", "enable a user account", supervisor=TEAM, admin=ALL),
    rule("users.reset_password", "reset a user's password", supervisor=TEAM, admin=ALL),
    # the knowledge base (knowledge/): editor = a department's knowledge editor (team = their department);
    # supervisors and admins are the hotline's knowledge staff who check and publish
    rule("knowledge.search", "search the knowledge base", agent=ALL, supervisor=ALL, auditor=ALL, admin=ALL,
         editor=ALL),
    rule("knowledge.list", "list knowledge entries and gaps", supervisor=ALL, auditor=ALL, admin=ALL, editor=TEAM),
    rule("knowledge.read", "read a knowledge entry and its versions", supervisor=ALL, auditor=ALL, admin=ALL,
         editor=TEAM),
    rule("knowledge.edit", "draft and change knowledge entries", supervisor=ALL, admin=ALL, editor=TEAM),
    rule("knowledge.check", "check a knowledge entry (多方校核) or close a gap", supervisor=ALL, admin=ALL),
    rule("knowledge.publish", "publish a knowledge entry", supervisor=ALL, admin=ALL),
    rule("knowledge.withdraw", "withdraw a knowledge entry", supervisor=ALL, admin=ALL, editor=TEAM),
    rule("knowledge.import", "import knowledge entries in bulk", supervisor=ALL, admin=ALL, editor=TEAM),
    rule("knowledge.use", "mark a call answered from an entry, or report a gap", agent=OWN, supervisor=TEAM,
         admin=ALL),
    rule("knowledge.figures", "see the knowledge base's figures", supervisor=ALL, auditor=ALL, admin=ALL,
         editor=TEAM),
    rule("knowledge.public", "search published entries for the government website (machine token)", auditor=ALL,
         admin=ALL),
    # calls and callers (hotline/calls)
    rule("calls.list", "list call records", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("calls.get", "read a call record", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("caller_lists.read", "read caller lists", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("caller_lists.add", "change caller lists", supervisor=ALL, admin=ALL),
    rule("caller_lists.remove", "change caller lists", supervisor=ALL, admin=ALL),
    rule("caller_measures.read", "read measures on nuisance callers", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("caller_measures.decide", "warn, pause, stop or suspend a nuisance caller", supervisor=ALL, admin=ALL),
    rule("caller_measures.lift", "lift a measure on a nuisance caller", supervisor=ALL, admin=ALL),
    # the ACD: agents, queues, calls in progress (acd)
    rule("agents.list", "see agents", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("agents.state", "change an agent's state", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("agents.wrap_up", "extend an agent's wrap-up", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("agents.spy", "listen to, whisper to or barge into an agent's call", supervisor=TEAM, admin=ALL),
    rule("acd.queue", "see the queue", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("acd.stats", "see queue statistics", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("acd.events", "follow the live feed", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    # the console (console/): the live wallboard
    rule("wallboard.read", "see the live wallboard (a team supervisor: their team's agents)", supervisor=TEAM,
         auditor=ALL, admin=ALL),
    rule("calls.silent", "hand a call to the silent-caller check", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.transfer", "transfer a call", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.three_way", "bring a third party into a call", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.consult", "consult before transferring a call", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.consult_end", "complete or cancel a consult", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.leave", "leave a three-way call", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("calls.flag_emergency", "flag a call's caller an emergency (priority)", agent=OWN, supervisor=TEAM,
         admin=ALL),
    # the agent directory (acd/directory): agents, skills and levels, teams, their phones
    rule("directory.agents.list", "see the agent directory", agent=OWN, supervisor=TEAM, engineer=ALL, auditor=ALL,
         admin=ALL),
    rule("directory.agents.read", "see an agent of the directory", agent=OWN, supervisor=TEAM, engineer=ALL,
         auditor=ALL, admin=ALL),
    rule("directory.agents.create", "add agents to the directory", supervisor=TEAM, admin=ALL),
    rule("directory.agents.update", "change an agent of the directory", supervisor=TEAM, admin=ALL),
    rule("directory.agents.deactivate", "deactivate an agent", supervisor=TEAM, admin=ALL),
    rule("directory.agents.phone_secret", "give an agent's phone a new password", supervisor=TEAM, admin=ALL),
    rule("directory.skills.list", "see the skills agents may have", agent=ALL, supervisor=ALL, engineer=ALL,
         auditor=ALL, admin=ALL),
    rule("directory.teams.list", "see the teams", supervisor=ALL, engineer=ALL, auditor=ALL, admin=ALL),
    rule("directory.teams.create", "add a team", supervisor=ALL, admin=ALL),
    # tickets and the case system (tickets, integration/casesystem)
    rule("tickets.create", "create tickets", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("tickets.read", "read tickets", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("tickets.write", "change tickets", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("tickets.confidential", "read confidential tickets and their calls", supervisor=ALL, admin=ALL),
    rule("tickets.duty_call", "call a ticket's handling unit", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("tickets.legal_hold", "put a ticket's recordings on legal hold", supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("tickets.legal_hold_release", "release a ticket's legal hold", supervisor=TEAM, admin=ALL),
    rule("callers.history", "read a caller's history", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("case.outbox", "see messages to the case system", supervisor=ALL, admin=ALL),
    rule("case.replay", "replay messages to the case system", supervisor=ALL, admin=ALL),
    # people calling back (callback, issue 16): agents claim, dial and close items; supervisors follow their team
    rule("callbacks.list", "see the callback work list", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("callbacks.read", "see a callback item", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("callbacks.claim", "claim a callback item", agent=OWN),
    rule("callbacks.release", "release a callback item", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("callbacks.message", "listen to a voice message", agent=OWN, supervisor=TEAM, admin=ALL),
    rule("callbacks.dial", "call a citizen back", agent=OWN),
    rule("callbacks.outcome", "record how a callback went", agent=OWN),
    # the revisit robot (callback): supervisors and admins operate it, auditors follow it
    rule("revisits.progress", "see revisit progress", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("revisits.pause", "pause the revisit dialer", supervisor=ALL, admin=ALL),
    rule("revisits.resume", "resume the revisit dialer", supervisor=ALL, admin=ALL),
    rule("revisits.upload", "upload revisit tasks", supervisor=ALL, admin=ALL),
    rule("revisits.list", "see revisit tasks", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("revisits.campaigns.list", "see revisit campaigns", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("revisits.campaigns.create", "create revisit campaigns", supervisor=ALL, admin=ALL),
    rule("revisits.campaigns.get", "see revisit campaigns", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("revisits.campaigns.pause", "pause revisit campaigns", supervisor=ALL, admin=ALL),
    rule("revisits.campaigns.resume", "resume revisit campaigns", supervisor=ALL, admin=ALL),
    rule("revisits.campaigns.tasks", "see revisit tasks", supervisor=ALL, auditor=ALL, admin=ALL),
    # hot-issue announcements (ivr/announcements, 热点播报): callers hear them after the greeting
    rule("announcements.list", "see hot-issue announcements (the log)", supervisor=ALL, auditor=ALL, admin=ALL),
    rule("announcements.create", "publish a hot-issue announcement", supervisor=ALL, admin=ALL),
    rule("announcements.end", "end a hot-issue announcement", supervisor=ALL, admin=ALL),
    rule("announcements.audio", "listen to or record a hot-issue announcement", supervisor=ALL, admin=ALL),
    # recordings: a confidential ticket's calls also need `tickets.confidential`; audited as recordings.listen,
    # .download or .waveform
    rule("recordings.search", "search recordings", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("recordings.play", "play recordings", agent=OWN, supervisor=TEAM, auditor=ALL, admin=ALL),
    # quality review (recordings/quality, issue 17): agents see their own calls' scores (read-only) and may reply;
    # auditors read all and score none; confidential tickets' calls as for recordings
    rule("quality.list", "list recorded calls for quality review with their flags", agent=OWN, supervisor=TEAM,
         auditor=ALL, admin=ALL),
    rule("quality.sheet", "read the quality score sheet", agent=ALL, supervisor=ALL, auditor=ALL, admin=ALL),
    rule("quality.read", "read a call's quality review (score, history, comments)", agent=OWN, supervisor=TEAM,
         auditor=ALL, admin=ALL),
    rule("quality.score", "score a call on the quality sheet", supervisor=TEAM, admin=ALL),
    rule("quality.comment", "comment on a call's quality review (an agent: reply on their own call)", agent=OWN,
         supervisor=TEAM, admin=ALL),
    rule("quality.scores", "see quality scores and per-agent averages", agent=OWN, supervisor=TEAM, auditor=ALL,
         admin=ALL),
    # the agent desk (desk): the screen pop of a call (the call's agent), the phrases, targets and form choices
    rule("desk.pop", "see a call's screen pop (caller, line, flags, history)", agent=OWN, supervisor=TEAM,
         admin=ALL),
    rule("desk.reference", "read the desk's phrases, transfer targets and ticket form", agent=ALL,
         supervisor=ALL, admin=ALL),
    # the softphone in the page (hotline/app/phone): an agent's own browser phone (a supervisor's, if a browser)
    rule("desk.phone", "get one's own browser phone (SIP credentials, a websocket ticket)", agent=OWN,
         supervisor=OWN),
    # the console's KPI reports (console/reports): the centre's figures; agents' and teams' rows of one's own team
    rule("reports.read", "read the KPI reports", supervisor=TEAM, auditor=ALL, admin=ALL),
    rule("reports.export", "export the KPI reports (CSV, XLSX)", supervisor=TEAM, auditor=ALL, admin=ALL),
    # the engineer page (dialplans, integration/world): the dialplan file and test calls from the simulated world
    rule("dialplan.read", "read the dialplan file and its kept versions", engineer=ALL, auditor=ALL, admin=ALL),
    rule("dialplan.check", "check a dialplan text and compare it with what runs", engineer=ALL, admin=ALL),
    rule("dialplan.apply", "apply a dialplan text to the running Asterisk", engineer=ALL, admin=ALL),
    rule("test_calls.place", "place a test call from the simulated world", engineer=ALL, admin=ALL),
    rule("test_calls.read", "see a test call's path and hear what its caller heard", engineer=ALL, admin=ALL),
    # the audit log (hotline/core/web): reading it is audited too
    rule("audit.read", "read the audit log", auditor=ALL, admin=ALL),
)

POLICY = Policy(RULES)
