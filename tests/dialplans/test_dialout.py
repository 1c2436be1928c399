"""The dial-out check: the number's form, each purpose's list from `dial_out:`, and the hourly limits in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dialplans.dialout import (
    DialOutCollector,
    DialOutGuard,
    DialOutPolicy,
    DialOutRefused,
    DialRateExceeded,
    HourlyCount,
)
from dialplans.loader import check_dialplan, load_dialplan
from dialplans.model import DialOut
from tests.redis_server import fresh_redis

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
PLAN = load_dialplan(SHIPPED)
POLICY = DialOutPolicy.of(PLAN)


@pytest.mark.parametrize("number", [
    "１３８００１３８０００",  # full-width digits
    "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits
    "१३८००१३८०००",  # Devanagari digits
    "+8613800138000", "*13800138000", "13800138000#", "138 0013 8000", "138-0013-8000",
    "13800138000\n", "13800138000\r\nAction: Originate", "1380013\x008000", "13800138000\t",
    "12", "1" * 21, "", None, 13800138000,
])
def test_only_three_to_twenty_ascii_digits_are_a_number(number: object) -> None:
    for purpose in ("three_way", "consult", "linkage", "revisit", "duty_call", "callback"):
        assert POLICY.refusal(purpose, number) == "a number is 3 to 20 ASCII digits 0-9, nothing else"


@pytest.mark.parametrize(("number", "why"), [
    ("0044207946000", "international"), ("001650253000", "international"), ("00861380013800", "international"),
    ("16001234567", "premium"), ("16812345678", "premium"), ("95588", "premium"), ("96777", "premium"),
    ("955881234", "premium"), ("17951", "carrier_prefix"), ("1795113800138000", "carrier_prefix"),
    ("17909", "carrier_prefix"), ("10193", "carrier_prefix"), ("1019313800138000", "carrier_prefix"),
])
def test_international_premium_and_carrier_prefix_numbers_are_refused_by_default(number: str, why: str) -> None:
    for purpose in ("three_way", "consult", "revisit", "callback", "duty_call"):
        refusal = POLICY.refusal(purpose, number)
        assert refusal is not None and refusal.startswith(why), (purpose, refusal)


def test_each_purpose_dials_what_its_list_allows() -> None:
    national = ("02512366001", "01062345678", "037112345678", "13800138000", "19912345678")
    for number in national:
        for purpose in ("three_way", "consult", "revisit", "callback"):
            assert POLICY.refusal(purpose, number) is None, (purpose, number)
        assert POLICY.refusal("linkage", number) is not None
    assert POLICY.refusal("three_way", "12366") is None, "the hotline's own short numbers"
    assert POLICY.refusal("three_way", "96119") is None, "a merged number of the hotline's own, though 96xxx"
    assert POLICY.refusal("revisit", "12366") is not None, "the robot calls citizens, not short numbers"
    assert POLICY.refusal("duty_call", "01062345601") is None, "a unit's duty phone"
    assert POLICY.refusal("duty_call", "01062345699") is not None, "not a unit's"
    for number in ("110", "119", "120", "122"):
        assert POLICY.refusal("linkage", number) is None
        assert POLICY.refusal("three_way", number) is not None
    assert POLICY.refusal("three_way", "0251236600") is None and POLICY.refusal("three_way", "025123") is not None
    assert POLICY.refusal("fax", "13800138000") == "nothing is dialled out for 'fax'"


def test_a_pattern_listed_for_a_purpose_lets_that_purpose_dial_it() -> None:
    rules = DialOut(allow=(("three_way", ("national", "9555[0-9]", "0044207946000")), ("consult", ("national",))))
    policy = replace(POLICY, rules=rules)
    assert policy.refusal("three_way", "95558") is None and policy.refusal("three_way", "0044207946000") is None
    assert policy.refusal("three_way", "95568") is not None and policy.refusal("three_way", "00442079460001")
    assert policy.refusal("consult", "95558") is not None, "only for the purpose that lists it"
    with pytest.raises(DialOutRefused) as refused:
        policy.check("consult", "0044207946000")
    assert refused.value.code == 403 and refused.value.id == "number_not_allowed"


def _with_dial_out(tmp_path: Path, section: str) -> Path:
    text = SHIPPED.read_text()
    start = text.index("dial_out:\n")
    end = text.index("\n\n", start)
    target = tmp_path / "hotline.yaml"
    target.write_text(text[:start] + section + text[end:])
    return target


def test_the_dial_out_section_is_checked_with_file_and_line(tmp_path: Path) -> None:
    target = _with_dial_out(tmp_path, """dial_out:
  allow:
    three_way: [national, "955[0-9", "+44.*"]
    conslt: [national]
    revisit: [nationl]
  per_hour: {agent: 0, robot: 5}""")
    first = SHIPPED.read_text()[:SHIPPED.read_text().index("dial_out:\n")].count("\n") + 1
    errors = {(e.line - first, e.message.split(" '")[0].split(":")[0]) for e in check_dialplan(target)}
    assert errors == {
        (2, "dial_out.allow.three_way pattern"),  # does not compile
        (2, "dial_out.allow.three_way"),  # "+44.*" is not digits
        (3, "unknown key"),  # conslt
        (4, "dial_out.allow.revisit"),  # nationl: neither a class nor digits
        (5, "dial_out.per_hour.agent must be 1 or more"),
        (5, "unknown key"),  # robot
    }, errors
    good = _with_dial_out(tmp_path, 'dial_out:\n  allow: {three_way: [national, "9555[0-9]"]}\n  per_hour: {agent: 3}')
    plan = load_dialplan(good)
    assert plan.dial_out.allowed("three_way") == ("national", "9555[0-9]")
    assert plan.dial_out.allowed("consult") == ("national", "short", "units"), "the default for an unlisted one"
    assert plan.dial_out.per_hour["agent"] == 3 and plan.dial_out.per_hour["revisit"] == 600


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[Redis]:
    async with fresh_redis(tmp_path) as client:
        yield client


@pytest.fixture
def guard(redis: Redis) -> DialOutGuard:
    rules = replace(PLAN.dial_out, per_hour={"agent": 3, "revisit": 2})
    return DialOutGuard(replace(POLICY, rules=rules), HourlyCount(redis))


async def test_the_hourly_limit_counts_per_agent_and_per_machine_purpose(guard: DialOutGuard) -> None:
    for _ in range(3):
        await guard.check("three_way", "02512366001", agent="8001")
    with pytest.raises(DialRateExceeded) as over:
        await guard.check("consult", "13800138000", agent="8001")
    assert over.value.code == 429 and over.value.id == "dial_rate_exceeded"
    await guard.check("three_way", "02512366001", agent="8002")  # another agent's own hour
    for _ in range(2):
        await guard.check("revisit", "13800138000")
    with pytest.raises(DialRateExceeded):
        await guard.check("revisit", "13900139000")
    await guard.check("callback", "13800138000")  # no limit configured for callbacks here
    with pytest.raises(DialOutRefused):
        await guard.check("three_way", "0044207946000", agent="8003")
    counted = {(s.labels["purpose"], s.labels["reason"]): s.value
               for f in DialOutCollector(guard).collect() for s in f.samples}
    assert counted == {("consult", "dial_rate_exceeded"): 1, ("revisit", "dial_rate_exceeded"): 1,
                       ("three_way", "number_not_allowed"): 1}


async def test_a_new_hour_starts_a_new_count(redis: Redis) -> None:
    count = HourlyCount(redis)
    hour = 1_800_000_000.0
    assert [await count.take("agent:8001", 2, hour) for _ in range(3)] == [True, True, False]
    assert await count.take("agent:8001", 2, hour + 3600)
    ttl = await redis.ttl(f"hotline:dialout:agent:8001:{int(hour // 3600)}")
    assert 3600 < ttl <= 3700, "each hour's count expires after it"
