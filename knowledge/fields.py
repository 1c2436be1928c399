"""What an entry says, checked in one place for the API and the bulk import."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hotline.core.clock import china_today
from hotline.core.errors import Invalid
from hotline.core.web.bodies import Body
from tickets.catalogue import Catalogue

REVIEW_AFTER = timedelta(days=180)  # review_by when neither it nor valid_until is given
Text = Annotated[str, Field(min_length=1, max_length=200)]
Keyword = Annotated[str, Field(min_length=1, max_length=32)]
CONTENT = ("title", "questions", "answer", "department", "category", "region", "keywords", "valid_from",
           "valid_until", "review_by", "source", "source_date", "phone")


class EntryFields(Body):
    """An entry's content: citizens' questions, the agreed answer (答复口径) and what it applies to."""

    title: Text
    questions: Annotated[list[Text], Field(min_length=1, max_length=20)]
    answer: Annotated[str, Field(min_length=1, max_length=4000)]
    department: Annotated[str, Field(min_length=1, max_length=64)]
    category: Annotated[str, Field(max_length=16, description="a code of the ticket catalogue")] = ""
    region: Annotated[str, Field(max_length=64)] = ""
    keywords: Annotated[list[Keyword], Field(max_length=20)] = Field(default_factory=list)
    valid_from: date | None = None
    valid_until: date | None = None
    review_by: date | None = Field(default=None, description="the next review; default valid_until or 180 days on")
    source: Annotated[str, Field(max_length=500, description="the source document (policy)")] = ""
    source_date: date | None = Field(default=None, description="when the source document took effect")
    phone: bool = Field(default=False, description="may be read to callers by the IVR")

    @field_validator("valid_until")
    @classmethod
    def _after_from(cls, until: date | None, info: ValidationInfo) -> date | None:
        if until is not None and until < (info.data.get("valid_from") or china_today()):
            raise ValueError("失效日期早于生效日期")
        return until

    @model_validator(mode="after")
    def _dates(self) -> EntryFields:
        self.valid_from = self.valid_from or china_today()
        self.review_by = self.review_by or self.valid_until or self.valid_from + REVIEW_AFTER
        return self

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTENT}


class EntryPatch(Body):
    """Some of an entry's content; what is left out stays."""

    title: Text | None = None
    questions: Annotated[list[Text], Field(min_length=1, max_length=20)] | None = None
    answer: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    department: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    category: Annotated[str, Field(max_length=16)] | None = None
    region: Annotated[str, Field(max_length=64)] | None = None
    keywords: Annotated[list[Keyword], Field(max_length=20)] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    review_by: date | None = None
    source: Annotated[str, Field(max_length=500)] | None = None
    source_date: date | None = None
    phone: bool | None = None


def check_category(fields: EntryFields, catalogue: Catalogue) -> None:
    """422 naming `category` unless it is empty or a code of the catalogue."""
    if fields.category and catalogue.get(fields.category) is None:
        raise Invalid(f"no category {fields.category} in the ticket catalogue",
                      fields=[{"field": "category", "message": "不是工单分类目录中的编码"}],
                      error_id="bad_entry")


def jsonable(content: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO text (for the versions' and pending content's JSON)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in content.items()}
