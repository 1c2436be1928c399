"""The engineers' dialplan as typed, immutable data."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import Literal

Mode = Literal["main", "whole_merge", "dual", "sub_centre"]
Seat = Literal["general", "expert", "sub_centre"]
Failsafe = Literal["apology", "queue"]
Greeting = Literal["new_year", "festival", "none"]
Phone = Literal["sip", "webrtc"]  # an agent's phone: a desk/soft phone over SIP, or the browser (WebRTC)

MODES: tuple[str, ...] = ("main", "whole_merge", "dual", "sub_centre")
SEATS: tuple[str, ...] = ("general", "expert", "sub_centre")
FAILSAFES: tuple[str, ...] = ("apology", "queue")
GREETINGS: tuple[str, ...] = ("new_year", "festival", "none")
PHONES: tuple[str, ...] = ("sip", "webrtc")
REQUIRED_PROMPTS: tuple[str, ...] = ("greeting", "apology", "goodbye", "transition", "rating", "rating_invalid",
                                     "rating_thanks", "silent_prompt", "silent_goodbye", "blocked",
                                     "watch_warning", "service_suspended", "queue_position", "queue_position_many")
# Prompts a number with `knowledge: true` needs: the offer with key 3, and "nothing to read yet".
KNOWLEDGE_PROMPTS: tuple[str, ...] = ("self_service_offer_knowledge", "knowledge_none")
# Rating labels for keys 1-5 (the Beijing draft, 003); the Liaoning variant (000) says 理解 for 3.
# Emergency linkage numbers agents transfer to in one key (R-ACC-5): police, fire, ambulance, traffic police.
LINKAGE_NUMBERS: tuple[str, ...] = ("110", "119", "120", "122")
RATING_LABELS: tuple[str, ...] = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")


@dataclass(frozen=True)
class Centre:
    name: str
    main_number: str
    display_number: str


@dataclass(frozen=True)
class Trunk:
    name: str
    match: tuple[str, ...]
    codecs: tuple[str, ...] = ("alaw", "ulaw")
    dtmf_mode: str = "rfc4733"
    allow_wide_match: bool = False  # `match` may be wider than /16 (IPv6 /48) or a host name: said on purpose


@dataclass(frozen=True)
class Widening:
    """After `after_s` seconds of waiting, agents with skill `to` at `min_level` or above may take the call."""

    after_s: int
    to: str
    min_level: int = 1


@dataclass(frozen=True)
class Skill:
    id: str
    label: str
    seat: Seat
    min_level: int = 1  # agents below this level of the skill are not offered its calls
    widen: tuple[Widening, ...] = ()


@dataclass(frozen=True)
class Window:
    start: date
    until: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.until


@dataclass(frozen=True)
class Menu:
    """One short menu after the greeting (R-ACC-3): a key picks the skill; no key or a wrong key twice
    goes to the number's own skill: the caller always reaches the queue."""

    prompt: str  # a key under prompts:
    options: tuple[tuple[str, str], ...]  # (key, skill)
    timeout_s: int = 4
    emergency: tuple[str, ...] = ()  # keys that also mark the call an emergency (R-ACD-1): queued before VIPs

    def skill_for(self, key: str | None) -> str | None:
        return dict(self.options).get(key or "")


@dataclass(frozen=True)
class Number:
    number: str
    mode: Mode
    skill: str
    department: str = ""
    transition: Window | None = None
    overflow: str | None = None
    failsafe: Failsafe = "queue"
    flow: str = "ivr/inbound"
    trunk: str | None = None
    full_at: int = 10  # sub-centre: callers already waiting for the skill at which new ones overflow
    # R-ACC-5: the prompt telling callers to dial 110/119/120/122, played once they are queued ("" = none)
    emergency_hint: str = ""
    menu: Menu | None = None
    # issue 20: waiting callers may hear the knowledge base's published phone entries (key 3 of the offer)
    knowledge: bool = False


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    seat: Seat
    skills: tuple[tuple[str, int], ...]
    group: str = ""  # the team (班组) whose supervisor looks after this agent
    phone: Phone = "sip"  # webrtc: the softphone in the desk page (over the service's /sip websocket)


@dataclass(frozen=True)
class Supervisor:
    """A supervisor's phone: listens to, whispers to or joins agents' calls (ChanSpy)."""

    id: str
    name: str
    phone: Phone = "sip"  # webrtc: the browser (the /phone/ page)


@dataclass(frozen=True)
class Unit:
    """A handling unit (承办单位) tickets go to, with the duty phone urgent tickets ring (R-TKT-4)."""

    name: str
    duty_number: str


@dataclass(frozen=True)
class Holiday:
    name: str
    period: Window
    greeting: Greeting


@dataclass(frozen=True)
class Recording:
    enabled: bool = True
    format: str = "wav"


CALL_SOURCES = ("unrated", "bad_rating", "abandoned")


@dataclass(frozen=True)
class ServiceLevelYield:
    """Inbound first by service level (R-ACC-8): of the inbound callers queued over the last `window_s`
    seconds, the share answered within 15 s; below `below`, the dialer places no new revisit call. Fewer
    than `min_offered` callers in the window say nothing (one missed call is not a trend)."""

    below: float = 0.8  # 0: never yield on the service level
    window_s: int = 900
    min_offered: int = 5

    def breached(self, offered: int, answered_in_time: int) -> bool:
        return self.below > 0 and offered >= self.min_offered and answered_in_time < self.below * offered


@dataclass(frozen=True)
class RevisitSettings:
    """The revisit robot's dialer (R-REV-4): when it may call, how hard it tries, how fast it goes."""

    hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(14), time(20)))  # China time
    on_holidays: bool = False  # public holidays from the calendar are quiet
    max_attempts: int = 3
    retry_after_s: int = 7200  # after no answer, busy, unreachable, a hang-up mid-survey
    quiet_s: int = 3600  # never two calls to one number closer than this
    calls_per_second: float = 1.0
    max_concurrent: int = 4
    yield_waiting: int = 1  # this many callers waiting for an agent stop new revisit calls (R-ACC-8)
    skill: str = "revisit"  # pressing 0 queues the petitioner for a person with this skill
    ring_timeout_s: int = 30  # ring this long before the call counts as not answered
    # which calls become revisit tasks (R-REV-2): unrated, bad_rating (keys 4-5), abandoned (a person
    # calls back), plus a random share of the rest (sampling)
    from_calls: tuple[str, ...] = ("unrated", "bad_rating", "abandoned")
    sample_rate: float = 0.05
    # yield_below_sl, yield_sl_window_s, yield_sl_min_offered in the file
    service_level: ServiceLevelYield = ServiceLevelYield()
    # the share of closed tickets revisited (R-REV-1; Beijing 5.5.1 全部或抽样, Tangshan 7.7.1 100 %: 1.0)
    tickets_sample_rate: float = 1.0

    def open_at(self, moment: time) -> bool:
        return any(start <= moment < end for start, end in self.hours)


@dataclass(frozen=True)
class RatingSettings:
    """The post-call keypad rating (R-RATE-1): keys 1-5 mean labels[0..4]."""

    enabled: bool = True
    labels: tuple[str, ...] = RATING_LABELS


@dataclass(frozen=True)
class QueueSettings:
    """What callers hear while they wait: music, and their position every `announce_every` s (0: never)."""

    announce_every: int = 30
    self_service: bool = True  # offer ticket progress (1) and a callback (2) after each announcement
    # over capacity, a caller may leave a voice message (R-ACC-9): an expected wait this long (s; 0: never),
    # this many callers already waiting for the skill (0: no limit), or nobody signed in with the skill
    message_over_s: int = 600
    capacity: int = 30


@dataclass(frozen=True)
class Priorities:
    """Queue priority levels by who is calling (each level counts as ten minutes of waiting).

    R-ACD-1 names "emergencies, repeat callers, elderly lines"; an emergency (紧急诉求, 003 5.2: "遇紧急诉求，及时上报
    管理人员") comes before a VIP: a caller whose number starts with one of `emergency_callers`, who pressed
    a menu key marked `emergency`, or whom an agent flagged on an earlier call within `emergency_flag_h` hours."""

    emergency: int = 4
    vip: int = 2
    elderly: int = 2
    repeat_caller: int = 1
    emergency_callers: tuple[str, ...] = ()  # numbers or prefixes (a hospital's or a care home's lines)
    emergency_flag_h: int = 24

    def of(self, labels: list[str]) -> int:
        return max((getattr(self, label, 0) for label in labels if label in PRIORITY_LABELS), default=0)

    def emergency_caller(self, number: str) -> bool:
        return any(number.startswith(prefix) for prefix in self.emergency_callers)


PRIORITY_LABELS: tuple[str, ...] = ("emergency", "vip", "elderly", "repeat_caller")


DIAL_PURPOSES: tuple[str, ...] = ("three_way", "consult", "linkage", "callback", "revisit", "duty_call")
DIAL_CLASSES: tuple[str, ...] = ("national", "fixed", "mobile", "short", "units", "linkage")


@dataclass(frozen=True)
class DialOut:
    """What each purpose may dial out (`dial_out:`; checked by `dialplans.dialout`): classes (national, fixed,
    mobile, short, units, linkage) and digit patterns; calls per hour for each agent (`agent`) and for each
    machine purpose (`revisit`, `callback`)."""

    allow: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("three_way", ("national", "short", "units")), ("consult", ("national", "short", "units")),
        ("linkage", ("linkage",)), ("callback", ("national",)), ("revisit", ("national",)),
        ("duty_call", ("units",)))
    per_hour: dict[str, int] = field(default_factory=lambda: {"agent": 30, "revisit": 600, "callback": 200})

    def allowed(self, purpose: str) -> tuple[str, ...] | None:
        return dict(self.allow).get(purpose)


@dataclass(frozen=True)
class MediaNode:
    """One hotline Asterisk behind the SIP front door (Kamailio): its name and SIP address."""

    name: str
    address: str
    port: int = 5060

    @property
    def uri(self) -> str:
        return f"sip:{self.address}:{self.port}"


@dataclass(frozen=True)
class Cluster:
    """Several media nodes behind one SIP front door (`cluster:`; issue 18, rendered by `dialplans.kamailio`).
    Empty `nodes`: one box, no front door."""

    nodes: tuple[MediaNode, ...] = ()
    address: str = "127.0.0.1"  # where the front door (Kamailio) listens for carriers, phones and the nodes
    port: int = 5060
    probe_s: int = 1  # OPTIONS to every node this often …
    probe_threshold: int = 1  # … this many unanswered mark it down (probed on; back up on the first answer)
    answer_s: int = 2  # a node that does not answer an INVITE this long: the call goes to the next node
    ws_port: int = 0  # the browser phones' SIP websocket on the front door (0: none; they use one box's Asterisk)
    services: tuple[str, ...] = ()  # the service instances' addresses, the only ones that may open that websocket


@dataclass(frozen=True)
class Dialplan:
    """Everything `dialplans/hotline.yaml` says."""

    centre: Centre
    trunks: tuple[Trunk, ...]
    skills: tuple[Skill, ...]
    numbers: tuple[Number, ...]
    agents: tuple[Agent, ...]
    holidays: tuple[Holiday, ...]
    prompts: dict[str, str] = field(default_factory=dict)
    recording: Recording = Recording()
    rating: RatingSettings = RatingSettings()
    priorities: Priorities = Priorities()
    queue: QueueSettings = QueueSettings()
    supervisors: tuple[Supervisor, ...] = ()
    workdays: tuple[date, ...] = ()  # weekend days worked in exchange for a holiday (调休上班)
    units: tuple[Unit, ...] = ()
    revisit: RevisitSettings = RevisitSettings()
    dial_out: DialOut = DialOut()
    cluster: Cluster = Cluster()

    def on_node(self, node: str) -> Dialplan:
        """The plan as media node `node` renders it: its carrier trunks named `<trunk>_<node>`, so the callers'
        channels (PJSIP/carrier_a-00000001) are unique across the nodes one service drives."""
        return replace(self, trunks=tuple(replace(t, name=f"{t.name}_{node}") for t in self.trunks))

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)

    def number(self, dialled: str) -> Number | None:
        return next((n for n in self.numbers if n.number == dialled), None)

    def holiday_on(self, day: date) -> Holiday | None:
        return next((h for h in self.holidays if h.period.contains(day)), None)
