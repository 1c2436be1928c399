"""The OpenAPI 3.1 document of the HTTP API."""

from __future__ import annotations

from typing import Any

from hotline.calls.caller_lists import KINDS
from tickets.openapi import RECORDING_PATHS, TICKET_PATHS, TICKET_SCHEMAS

_ERROR = {"$ref": "#/components/responses/Error"}
_SECOND_PARTY = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"agent": {"type": "string"},
                                     "number": {"type": "string", "pattern": "^[0-9]{3,20}$"}}}}}}
_CALL_ID = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "12345 hotline (voice side)", "version": "0.1.0"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["id", "message"],
                    "properties": {"id": {"type": "string"}, "message": {"type": "string"}}}}},
                "CallRecord": {
                    "type": "object",
                    "required": ["call_id", "caller", "dialled", "started_at", "route", "recordings"],
                    "properties": {
                        "call_id": {"type": "string"}, "sip_call_id": {"type": ["string", "null"]},
                        "caller": {"type": "string"}, "dialled": {"type": "string"},
                        "started_at": {"type": "string", "format": "date-time"},
                        "answered_at": {"type": ["string", "null"], "format": "date-time"},
                        "ended_at": {"type": ["string", "null"], "format": "date-time"},
                        "route": {"type": "object", "properties": {"mode": {"type": ["string", "null"]},
                                                                   "skill": {"type": ["string", "null"]},
                                                                   "prompt": {"type": ["string", "null"]},
                                                                   "overflow": {"type": ["string", "null"]}}},
                        "agent": {"type": ["string", "null"]}, "rating": {"type": ["integer", "null"]},
                        "rating_status": {"enum": ["rated", "not_rated", None]},
                        "outcome": {"type": ["string", "null"]}, "steps": {"type": "array"},
                        "recordings": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Health": {"type": "object", "properties": {"status": {"enum": ["ok", "degraded"]},
                                                            "parts": {"type": "object"}}},
                **TICKET_SCHEMAS,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/health": {"get": {"summary": "state of Asterisk, AMI, AGI, Redis, database", "security": [],
                                    "responses": {"200": {"description": "all parts up"},
                                                  "503": {"description": "a part is down"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [],
                                 "responses": {"200": {"description": "text exposition format"}}}},
            "/api/openapi.json": {"get": {"summary": "this document", "security": [],
                                          "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/calls": {"get": {
                "summary": "call records, newest first (agents see their own calls)",
                "parameters": [
                    {"name": "caller", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
                    {"name": "sip_call_id", "in": "query", "schema": {"type": "string"}},
                    {"name": "agent", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                ],
                "responses": {"200": {"description": "calls", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"calls": {"type": "array", "items": {
                        "$ref": "#/components/schemas/CallRecord"}}}}}}},
                    "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
            "/api/agents": {"get": {"summary": "agents and their states (an agent sees only themself)",
                                    "responses": {"200": {"description": "agents"}, "401": _ERROR, "403": _ERROR}}},
            "/api/agents/{agent}/state": {"post": {
                "summary": "sign in ready, pause (with reason) or sign out an agent",
                "parameters": [{"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["state"], "properties": {
                        "state": {"enum": ["ready", "paused", "signed_out"]}, "reason": {"type": "string"}}}}}},
                "responses": {"200": {"description": "changed"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                              "404": _ERROR}}},
            "/api/acd/queue": {"get": {"summary": "callers waiting, in routing order",
                                       "responses": {"200": {"description": "waiting callers"}, "401": _ERROR,
                                                     "403": _ERROR}}},
            "/api/calls/{call_id}": {"get": {
                "summary": "one call record", "parameters": [_CALL_ID],
                "responses": {"200": {"description": "the call", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CallRecord"}}}},
                    "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
            "/api/agents/{agent}/spy": {"post": {
                "summary": "ring the supervisor's phone into the agent's call: listen, whisper or barge (ChanSpy)",
                "parameters": [{"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["phone"], "properties": {
                        "mode": {"enum": ["listen", "whisper", "barge"]}, "phone": {"type": "string"}}}}}},
                "responses": {"202": {"description": "the supervisor's phone rings"}, "400": _ERROR,
                              "401": _ERROR, "403": _ERROR, "409": _ERROR}}},
            "/api/acd/stats": {"get": {
                "summary": "service level per skill for a day: offered, answered, answered_15s, abandoned, sl_15s, "
                           "abandon_rate, wait_avg_s",
                "parameters": [{"name": "day", "in": "query", "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": {"description": "per skill"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
            "/api/acd/events": {"get": {
                "summary": "websocket: live queue and agent events (queued, offered, connected, requeued, abandoned, "
                           "ended, agent); an agent sees only their own",
                "responses": {"101": {"description": "switching to websocket"}, "401": _ERROR, "403": _ERROR}}},
            "/api/caller-lists": {
                "get": {"summary": "numbers on the caller lists (supervisor, admin, auditor)",
                        "parameters": [{"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}}],
                        "responses": {"200": {"description": "entries"}, "400": _ERROR, "401": _ERROR,
                                      "403": _ERROR}},
                "post": {"summary": "put a number on a list: vip / elderly (priority), watch (warned), blocked",
                         "requestBody": {"content": {"application/json": {"schema": {
                             "type": "object", "required": ["number", "kind"], "properties": {
                                 "number": {"type": "string", "pattern": r"^\+?\d{3,20}$"},
                                 "kind": {"enum": list(KINDS)}, "note": {"type": "string", "maxLength": 200}}}}}},
                         "responses": {"201": {"description": "listed"}, "400": _ERROR, "401": _ERROR,
                                       "403": _ERROR, "409": _ERROR}}},
            "/api/caller-lists/{kind}/{number}": {"delete": {
                "summary": "take a number off a list",
                "parameters": [{"name": "kind", "in": "path", "required": True, "schema": {"enum": list(KINDS)}},
                               {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "removed"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
            "/api/calls/{call_id}/transfer": {"post": {
                "summary": "blind transfer of the caller to a skill or sub-centre, or one-key to 110/119/120/122 "
                           "(the call's agent or a supervisor)",
                "parameters": [_CALL_ID],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"skill": {"type": "string"},
                                                     "linkage": {"enum": ["110", "119", "120", "122"]}}}}}},
                "responses": {"200": {"description": "transferred"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                              "409": _ERROR}}},
            "/api/agents/{agent}/wrap-up": {"post": {
                "summary": "more after-call work: extend the agent's wrap-up (at most ten minutes from now)",
                "parameters": [{"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["extend_s"],
                    "properties": {"extend_s": {"type": "number", "minimum": 1, "maximum": 600}}}}}},
                "responses": {"200": {"description": "seconds left"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                              "409": _ERROR}}},
            **{f"/api/calls/{{call_id}}/{path}": {"post": {
                "summary": summary, "parameters": [_CALL_ID], "requestBody": _SECOND_PARTY,
                "responses": {"202": {"description": "ringing"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                              "409": _ERROR}}} for path, summary in (
                ("three-way", "ring a third party into the call: an expert or sub-centre seat (agent) or a department "
                              "outside (number); the outcome is written on the call record"),
                ("consult", "consult (attended) transfer: the caller on hold with music, the agent rings an expert "
                            "seat (agent) or a department outside (number) and talks to them first"))},
            **{f"/api/calls/{{call_id}}/consult/{how}": {"post": {
                "summary": summary, "parameters": [_CALL_ID],
                "responses": {"200": {"description": "done"}, "401": _ERROR, "403": _ERROR, "409": _ERROR}}}
               for how, summary in (
                   ("complete", "hand the caller over to the consulted party; the agent goes to wrap-up"),
                   ("cancel", "end the consultation; the agent is back with the caller"))},
            "/api/calls/{call_id}/leave": {"post": {
                "summary": "the agent drops out of a three-way call; the citizen and the third party stay",
                "parameters": [_CALL_ID],
                "responses": {"200": {"description": "the agent left"}, "401": _ERROR, "403": _ERROR,
                              "409": _ERROR}}},
            "/api/calls/{call_id}/silent": {"post": {
                "summary": "hand a silent caller to the IVR's silent-caller check (the call's agent or a supervisor)",
                "parameters": [_CALL_ID],
                "responses": {"200": {"description": "handed over"}, "401": _ERROR, "403": _ERROR,
                              "409": _ERROR}}},
            **TICKET_PATHS,
            **RECORDING_PATHS,
        },
    }
