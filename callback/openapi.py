"""The revisit robot's part of the OpenAPI document: progress, the dialer's switch, campaigns, uploads, export."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_STATUSES = ["pending", "calling", "retry", "done", "failed"]
_CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_TASK_ROW = {"type": "object", "required": ["number"], "properties": {
    "number": {"type": "string", "pattern": "^[0-9]{5,20}$"}, "salutation": {"type": "string", "maxLength": 64},
    "topic": {"type": "string", "maxLength": 100}, "reason": {"type": "string", "maxLength": 32}}}
_TASKS = {"type": "array", "minItems": 1, "maxItems": 5000, "items": _TASK_ROW}
_CSV = {"text/csv": {"schema": {"type": "string"}}}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_IMPORTED = {"description": "imported as a campaign of its own", "content": {"application/json": {"schema": {
    "type": "object", "required": ["campaign", "imported", "ids"],
    "properties": {"campaign": {"$ref": "#/components/schemas/RevisitCampaign"}, "imported": {"type": "integer"},
                   "ids": {"type": "array", "items": {"type": "integer"}}}}}}}
_BAD_ROWS = {"description": "bad rows, each named; nothing imported"}
_CAMPAIGN = {"description": "the campaign", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/RevisitCampaign"}}}}
_EXPORT_QUERY = [{"name": "status", "in": "query", "schema": {"enum": _STATUSES}},
                 {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}]
_EXPORT = {"description": "tasks, newest first", "content": {"application/json": {"schema": {
    "type": "object", "required": ["tasks"],
    "properties": {"tasks": {"type": "array", "items": {"$ref": "#/components/schemas/RevisitTask"}}}}}}}

REVISIT_SCHEMAS: dict[str, Any] = {
    "RevisitProgress": {
        "type": "object", "required": ["total", "done", "pending", "by_status", "by_result", "reached", "reached_rate"],
        "properties": {"total": {"type": "integer"}, "done": {"type": "integer"}, "pending": {"type": "integer"},
                       "by_status": _COUNTS, "by_result": _COUNTS, "reached": {"type": "integer"},
                       "reached_rate": {"type": "number", "minimum": 0, "maximum": 1}}},
    "RevisitCampaign": {
        "type": "object", "required": ["id", "name", "source", "state", "created_at", "created_by"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "source": {"enum": ["rules", "upload"]},
                       "state": {"enum": ["active", "paused", "finished"]},
                       "created_at": {"type": "string", "format": "date-time"}, "created_by": {"type": "string"},
                       "progress": {"$ref": "#/components/schemas/RevisitProgress"}}},
    "RevisitTask": {
        "type": "object", "required": ["id", "campaign_id", "number", "reason", "mode", "status", "attempts"],
        "properties": {"id": {"type": "integer"}, "campaign_id": {"type": "integer"}, "number": {"type": "string"},
                       "ticket_id": {"type": ["integer", "null"]}, "call_id": {"type": ["string", "null"]},
                       "reason": {"type": "string"}, "mode": {"enum": ["robot", "human"]},
                       "status": {"enum": _STATUSES}, "result": {"type": ["string", "null"]},
                       "attempts": {"type": "integer"}, "last_outcome": {"type": ["string", "null"]},
                       "answers": {"type": "object"},
                       "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                       "finished_at": {"type": ["string", "null"], "format": "date-time"}}},
}

REVISIT_PATHS: dict[str, Any] = {
    "/api/revisits": {"get": {
        "summary": "revisit progress over all campaigns (tasks total / done / pending, reached rate, results) and "
                   "the dialer's state, with the inbound pressure it yields to",
        "responses": {"200": {"description": "progress"}, "401": _ERROR, "403": _ERROR}}},
    "/api/revisits/pause": {"post": {
        "summary": "stop placing new revisit calls in every campaign (the master switch; calls in progress go on)",
        "responses": {"200": {"description": "the dialer's state"}, "401": _ERROR, "403": _ERROR}}},
    "/api/revisits/resume": {"post": {
        "summary": "place revisit calls again (campaigns paused on their own stay paused)",
        "responses": {"200": {"description": "the dialer's state"}, "401": _ERROR, "403": _ERROR}}},
    "/api/revisits/tasks": {
        "post": {
            "summary": "upload revisit tasks as a campaign named after the time: JSON {tasks: [...]} or CSV "
                       "(number,salutation,topic,reason); all or nothing",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "required": ["tasks"],
                                                "properties": {"tasks": _TASKS}}}, **_CSV}},
            "responses": {"201": _IMPORTED, "400": _ERROR, "401": _ERROR, "403": _ERROR, "422": _BAD_ROWS}},
        "get": {
            "summary": "revisit tasks of every campaign with their results and answers, newest first (the export)",
            "parameters": _EXPORT_QUERY,
            "responses": {"200": _EXPORT, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/revisits/campaigns": {
        "get": {
            "summary": "revisit campaigns, newest first, each with its progress (the rules' standing campaign too)",
            "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["active", "paused", "finished"]}}],
            "responses": {"200": {"description": "campaigns", "content": {"application/json": {"schema": {
                "type": "object", "required": ["campaigns"], "properties": {"campaigns": {
                    "type": "array", "items": {"$ref": "#/components/schemas/RevisitCampaign"}}}}}}},
                "400": _ERROR, "401": _ERROR, "403": _ERROR}},
        "post": {
            "summary": "a named campaign from an upload: JSON {name, tasks: [...]} or CSV (number,salutation,topic,"
                       "reason) with ?name=; all or nothing",
            "parameters": [{"name": "name", "in": "query", "description": "the campaign's name, for a CSV upload",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 100}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object", "required": ["name", "tasks"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
                    "tasks": _TASKS}}}, **_CSV}},
            "responses": {"201": _IMPORTED, "400": _ERROR, "401": _ERROR, "403": _ERROR, "422": _BAD_ROWS}}},
    "/api/revisits/campaigns/{campaign_id}": {"get": {
        "summary": "one campaign with its progress",
        "parameters": [_CAMPAIGN_ID],
        "responses": {"200": _CAMPAIGN, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
    "/api/revisits/campaigns/{campaign_id}/pause": {"post": {
        "summary": "stop calling this campaign's petitioners (calls in progress go on)",
        "parameters": [_CAMPAIGN_ID],
        "responses": {"200": _CAMPAIGN, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                      "409": {"description": "the campaign is finished"}}}},
    "/api/revisits/campaigns/{campaign_id}/resume": {"post": {
        "summary": "call this campaign's petitioners again",
        "parameters": [_CAMPAIGN_ID],
        "responses": {"200": _CAMPAIGN, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                      "409": {"description": "the campaign is finished"}}}},
    "/api/revisits/campaigns/{campaign_id}/tasks": {"get": {
        "summary": "this campaign's tasks with their results and answers, newest first (its export)",
        "parameters": [_CAMPAIGN_ID, *_EXPORT_QUERY],
        "responses": {"200": _EXPORT, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
}
