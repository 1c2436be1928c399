"""Bad input on every ticket field gets a precise error naming the field; nothing half-read."""

from __future__ import annotations

from typing import Any

import pytest

from tickets.catalogue import Catalogue
from tickets.form import BadTicket, missing_for_submit, normalise_phone, read_form

CATALOGUE = Catalogue([{"code": "01", "name": "公安", "children": [
    {"code": "0101", "name": "出入境管理", "children": [{"code": "010101", "name": "普通护照"}]}]}],
    ["东城区", "西城区"])


def errors_of(body: Any) -> dict[str, str]:
    with pytest.raises(BadTicket) as caught:
        read_form(body, CATALOGUE)
    return {e.field: e.message for e in caught.value.errors}


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"title": "长" * 101}, "title", "101 characters; at most 100"),
    ({"title": 12}, "title", "must be text, got int"),
    ({"request_type": "抱怨"}, "request_type", "咨询 / 求助 / 投诉"),
    ({"urgency": "urgent"}, "urgency", "一般 / 紧急 / 非常紧急"),
    ({"channel": "fax"}, "channel", "must be one of"),
    ({"category": "999999"}, "category", "'999999' is not in the category catalogue"),
    ({"region": "火星区"}, "region", "not one of the centre's districts"),
    ({"region": "区" * 33}, "region", "at most 32"),
    ({"complex": "yes"}, "complex", "true or false"),
    ({"petitioner": {"phone": "12345"}}, "petitioner.phone", "not a mobile"),
    ({"petitioner": {"phone": "1380013800a"}}, "petitioner.phone", "not a mobile"),
    ({"petitioner": {"confidential": 1}}, "petitioner.confidential", "true or false"),
    ({"petitioner": {"age": 70}}, "petitioner.age", "not a petitioner field"),
    ({"petitioner": "张三"}, "petitioner", "must be an object"),
    ({"content": {"description": "x" * 4001}}, "content.description", "at most 4000"),
    ({"content": {"mood": "angry"}}, "content.mood", "not a content field"),
    ({"content": []}, "content", "must be an object"),
    ({"calls": "abc"}, "calls", "list of call ids"),
    ({"calls": ["bad id!"]}, "calls", "list of call ids"),
    ({"priority": 1}, "priority", "not a ticket field"),
])
def test_each_bad_field_is_named(body: dict[str, Any], field: str, says: str) -> None:
    errors = errors_of(body)
    assert field in errors, errors
    assert says in errors[field]


def test_every_bad_field_is_reported_at_once() -> None:
    errors = errors_of({"title": 1, "urgency": "x", "petitioner": {"phone": "1"}})
    assert set(errors) == {"title", "urgency", "petitioner.phone"}


def test_a_body_that_is_not_an_object() -> None:
    assert errors_of(["咨询"]) == {"(body)": "send a JSON object"}


@pytest.mark.parametrize(("raw", "normal"), [
    ("138 0013 8000", "13800138000"), ("+8613800138000", "13800138000"), ("010-62345678", "01062345678"),
    ("0755 8888 9999", "075588889999"), ("12345", None), ("23800138000", None),
])
def test_phone_numbers_are_normalised(raw: str, normal: str | None) -> None:
    assert normalise_phone(raw) == normal


def test_submission_names_what_each_request_type_still_needs() -> None:
    complaint = {"request_type": "投诉", "category": "0101", "title": "", "content": {"description": "噪音"},
                 "petitioner_phone": None, "petitioner_name": "", "channel": "电话"}
    fields = {e.field for e in missing_for_submit(complaint, CATALOGUE, call_count=0)}
    assert fields == {"category", "title", "petitioner.phone", "content.occurred_at", "content.location",
                      "content.subject", "petitioner.name", "calls"}
    consultation = {"request_type": "咨询", "category": "010101", "title": "护照办理",
                    "content": {"description": "如何办理护照"}, "petitioner_phone": "13800138000",
                    "channel": "电话"}
    assert missing_for_submit(consultation, CATALOGUE, call_count=1) == []


def test_the_shipped_catalogue_has_the_seeds_seven_domains_in_three_levels() -> None:
    shipped = Catalogue.shipped()
    assert [c.name for c in shipped.roots()] == ["公安", "教育", "卫生健康", "生态环境", "民政", "农业农村", "市场监管"]
    leaves = [c for c in shipped.all() if c.leaf]
    assert len(leaves) > 300 and all(len(c.path) == 3 for c in leaves)
    assert all(c.code.startswith(shipped.get(c.code[:2]).code) for c in leaves)  # type: ignore[union-attr]


def test_the_twelve_domains_of_001_are_a_catalogue_to_choose() -> None:
    domains = Catalogue.shipped("domains12")
    assert [c.name for c in domains.roots()] == [
        "公共安全类", "城乡建设类", "住房保障类", "环境保护类", "交通出行类", "科教文旅类", "医疗卫生类", "经济综合类",
        "民生保障类", "公共服务类", "农林水土类", "党务政务类"]
    assert all(c.leaf for c in domains.all())
    read = read_form({"category": "Dd", "request_type": "投诉"}, domains)
    assert read.values["category"] == "Dd"
    with pytest.raises(BadTicket):
        read_form({"category": "010101"}, domains)  # a code of the other catalogue is refused


def test_the_setting_names_a_shipped_catalogue() -> None:
    from tickets.settings import TicketSettings

    assert TicketSettings(catalogue="domains12").catalogue == "domains12"
    with pytest.raises(ValueError, match="liaoning, domains12"):
        TicketSettings(catalogue="beijing")
    with pytest.raises(ValueError, match="no ticket catalogue"):
        Catalogue.shipped("beijing")


def test_a_district_of_the_list_is_kept_and_an_empty_one_clears_it() -> None:
    assert read_form({"region": "东城区"}, CATALOGUE).values["region"] == "东城区"
    assert read_form({"region": ""}, CATALOGUE).values["region"] == ""


def test_the_shipped_districts_and_a_centres_own() -> None:
    shipped = Catalogue.shipped()
    assert len(shipped.regions) == 16 and "东城区" in shipped.regions
    assert shipped.with_regions(["滨海新区"]).regions == ("滨海新区",) and len(shipped.regions) == 16
