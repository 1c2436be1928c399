"""The relay's check of each SIP message a browser phone sends: its own phone only."""

from __future__ import annotations

import pytest

from hotline.app.phone.sipcheck import parties, refusal


def request(method: str, frm: str, to: str, extra: str = "") -> str:
    return (f"{method} sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n"
            f"From: \"坐席\" <sip:{frm}@127.0.0.1>;tag=a\r\nTo: <sip:{to}@127.0.0.1>\r\nCall-ID: c\r\n"
            f"CSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n")


def response(to: str, frm: str = "13800138000") -> str:
    return (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bK2\r\nf: <sip:{frm}@127.0.0.1>;tag=b\r\n"
            f"t: <sip:{to}@x.invalid;transport=ws>;tag=c\r\nCall-ID: d\r\nCSeq: 1 INVITE\r\n\r\n")


def test_its_own_messages_pass() -> None:
    assert refusal(request("REGISTER", "8005", "8005"), "8005") is None
    assert refusal(request("INVITE", "8005", "*21"), "8005") is None  # a feature code, a seat, a number
    assert refusal(request("BYE", "8005", "13800138000"), "8005") is None
    assert refusal(response("8005"), "8005") is None  # answering the hotline's INVITE or OPTIONS (compact names)
    assert refusal("\r\n\r\n", "8005") is None  # keep-alive


@pytest.mark.parametrize("message", [
    request("REGISTER", "8005", "8001"),
    request("REGISTER", "8001", "8001"),
    request("INVITE", "8001", "12345"),
    request("INVITE", "8005", "12345", 'Authorization: Digest username="8001", realm="asterisk"\r\n'),
    response("8001"),
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "REGISTER sip:x SIP/2.0\r\nTo: <sip:8005@x>\r\n\r\n",  # no From
    request("INVITE", "8005", "1", "From: <sip:8001@x>;tag=z\r\n"),  # two From headers
])
def test_anything_for_another_phone_or_not_sip_is_refused(message: str) -> None:
    assert refusal(message, "8005") is not None


def test_parties_read_the_users() -> None:
    p = parties(request("INVITE", "8005", "12345", 'Authorization: Digest username="8005"\r\n'))
    assert p is not None and (p.method, p.from_user, p.to_user, p.auth_users) == ("INVITE", "8005", "12345", ("8005",))
