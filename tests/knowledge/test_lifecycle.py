"""An entry's life: draft → checked by a second person → published (found) → edited while staying found →
expired by time or withdrawn; every change a version; a department's editor reaches their department only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.core.clock import china_today
from hotline.core.errors import Conflict, Forbidden, Invalid, NotFound
from knowledge.fields import EntryPatch
from knowledge.search import Search
from knowledge.service import Entries, Reach
from tests.knowledge.conftest import ALL, fields, published

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _found(search: Search, q: str) -> list[int]:
    return [r["id"] for r in (await search.search(q, by="agent-8001", limit=5)).results]


async def test_draft_checked_published_found(entries: Entries, search: Search) -> None:
    entry = await entries.create(fields(), "editor.a", ALL)
    assert entry["state"] == "draft" and entry["review_by"] == (china_today() + timedelta(days=180)).isoformat()
    assert await _found(search, "公积金提取") == []
    with pytest.raises(Conflict) as own:
        await entries.check(entry["id"], "editor.a")
    assert own.value.id == "own_entry"
    with pytest.raises(Conflict) as unchecked:
        await entries.publish(entry["id"], "staff.b")
    assert unchecked.value.id == "not_checked"
    assert (await entries.check(entry["id"], "staff.b"))["state"] == "checked"
    assert (await entries.publish(entry["id"], "staff.b"))["state"] == "published"
    assert await _found(search, "公积金怎么取出来") == [entry["id"]]
    detail = await entries.get(entry["id"], ALL)
    assert [v["action"] for v in detail["versions"]] == ["published", "checked", "created"]
    assert detail["versions"][-1]["by"] == "editor.a" and detail["versions"][0]["by"] == "staff.b"


async def test_a_published_entry_edited_stays_found_until_the_edit_is_published(entries: Entries,
                                                                               search: Search) -> None:
    entry_id = await published(entries)
    edited = await entries.update(entry_id, EntryPatch(answer="新口径：可通过线上渠道申请提取。",
                                                       source="新办法"), "editor.a", ALL)
    assert edited["state"] == "published" and edited["pending"]["state"] == "draft"
    hit = (await search.search("公积金提取", by="x")).results[0]
    assert hit["id"] == entry_id and hit["answer"].startswith("职工购买")
    with pytest.raises(Conflict):
        await entries.check(entry_id, "editor.a")  # the edit's author
    await entries.check(entry_id, "staff.b")
    done = await entries.publish(entry_id, "staff.b")
    assert done["answer"].startswith("新口径") and done["pending"] is None and done["source"] == "新办法"
    assert (await search.search("公积金提取", by="x")).results[0]["answer"].startswith("新口径")
    versions = (await entries.get(entry_id, ALL))["versions"]
    assert versions[0]["action"] == "published" and "update_days" in versions[0]["changes"]
    assert versions[2]["action"] == "edited" and versions[2]["changes"]["answer"][1].startswith("新口径")


async def test_expired_by_time_and_withdrawn_are_not_found(entries: Entries, search: Search) -> None:
    today = china_today()
    soon = await published(entries, valid_until=(today + timedelta(days=3)).isoformat())
    other = await published(entries, title="社保卡补办", questions=["社保卡丢了怎么补办"], keywords=["社保卡"],
                            answer="携带居民身份证到社保卡服务网点补办。")
    assert await _found(search, "公积金提取") == [soon]
    listed, _ = await entries.listing(ALL, expiring=True)
    assert [e["id"] for e in listed] == [soon]
    assert await entries.expire(today + timedelta(days=4)) == 1
    assert (await entries.get(soon, ALL))["state"] == "expired"
    assert await _found(search, "公积金提取") == []
    assert await _found(search, "社保卡丢了") == [other]
    withdrawn = await entries.withdraw(other, "政策废止", "staff.b", ALL)
    assert withdrawn["state"] == "withdrawn" and withdrawn["withdrawn_reason"] == "政策废止"
    assert await _found(search, "社保卡丢了") == []


async def test_not_yet_valid_is_not_found(entries: Entries, search: Search) -> None:
    await published(entries, valid_from=(china_today() + timedelta(days=2)).isoformat())
    assert await _found(search, "公积金提取") == []


async def test_an_editor_reaches_their_department_only(entries: Entries) -> None:
    rs = Reach("市人社局")
    with pytest.raises(Forbidden):
        await entries.create(fields(department="市医保局"), "editor.rs", rs)
    mine = await entries.create(fields(department="市人社局"), "editor.rs", rs)
    theirs = await entries.create(fields(department="市医保局"), "editor.yb", Reach("市医保局"))
    with pytest.raises(NotFound):
        await entries.update(theirs["id"], EntryPatch(title="改"), "editor.rs", rs)
    with pytest.raises(NotFound):
        await entries.get(theirs["id"], rs)
    with pytest.raises(Forbidden):  # nor move their own into another department
        await entries.update(mine["id"], EntryPatch(department="市医保局"), "editor.rs", rs)
    listed, _ = await entries.listing(rs)
    assert [e["id"] for e in listed] == [mine["id"]]


async def test_bad_content_names_its_fields(entries: Entries) -> None:
    with pytest.raises(Invalid) as bad:
        await entries.create(fields(category="999999"), "editor.a", ALL)
    assert bad.value.fields == [{"field": "category", "message": "不是工单分类目录中的编码"}]
    entry = await entries.create(fields(category="010101"), "editor.a", ALL)
    assert entry["category_label"] == "公安 / 出入境管理 / 普通护照"
    with pytest.raises(Invalid) as dates:
        await entries.update(entry["id"], EntryPatch(valid_until=china_today() - timedelta(days=1)), "editor.a", ALL)
    assert [f["field"] for f in dates.value.fields or []] == ["valid_until"]
