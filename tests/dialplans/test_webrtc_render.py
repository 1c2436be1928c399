"""Browser phones in the rendered configs: only agents marked `phone: webrtc` get the WebRTC endpoint lines, the
websocket transport and Asterisk's HTTP (loopback only) are there whenever the service gives an HTTP port."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from dialplans.confcheck import check_rendered
from dialplans.loader import check_dialplan, load_dialplan
from dialplans.model import Dialplan
from dialplans.phones import PHONES_PJSIP
from dialplans.render import RenderContext, render
from dialplans.siptls import SipTls
from tests.dialplans.test_sip_edge_render import SHIPPED, section


def context(plan: Dialplan, tls: SipTls | None = None) -> RenderContext:
    phones = [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]
    return RenderContext("127.0.0.1", 5060, 5038, "hotline", "s3cret", "127.0.0.1", 4573, "/r", "/s",
                         {p: f"pw{p}" for p in phones}, tls=tls, http_port=8188)


def with_browser_phone(plan: Dialplan) -> Dialplan:
    return replace(plan, agents=(*plan.agents[:1], replace(plan.agents[1], phone="webrtc"), *plan.agents[2:]),
                   supervisors=tuple(replace(s, phone="webrtc") for s in plan.supervisors))


def test_only_browser_phones_get_webrtc_and_http_stays_on_loopback() -> None:
    plan = with_browser_phone(load_dialplan(SHIPPED))
    files = render(plan, context(plan, SipTls("/c.pem", "/k.pem")))
    assert check_rendered(files) == []
    phones = files[PHONES_PJSIP]
    browser, desk = section(phones, "8002", "endpoint"), section(phones, "8001", "endpoint")
    for line in ("transport=transport-ws", "webrtc=yes", "dtls_auto_generate_cert=yes", "media_encryption=dtls",
                 "ice_support=yes", "use_avpf=yes", "rtcp_mux=yes", "context=agents", "allow=alaw,ulaw",
                 "dtmf_mode=rfc4733"):
        assert f"{line}\n" in browser, line
    supervisor = section(phones, "9001", "endpoint")
    assert "webrtc=yes\n" in supervisor and "context=supervisors\n" in supervisor
    assert "webrtc" not in desk and "transport=transport-tls\n" in desk and "media_encryption=sdes\n" in desk
    assert "protocol=ws\n" in section(files["pjsip.conf"], "transport-ws", "transport")
    http = files["http.conf"]
    assert "enabled=yes\n" in http and "bindaddr=127.0.0.1\n" in http and "bindport=8188\n" in http
    assert "enable_status=no\n" in http and "enablestatic=no\n" in http


def test_without_browser_phones_the_phones_are_unchanged_and_without_a_port_http_is_off() -> None:
    plan = load_dialplan(SHIPPED)
    files = render(plan, context(plan))
    assert "webrtc" not in files[PHONES_PJSIP], "no phone is a browser"
    assert "protocol=ws\n" in files["pjsip.conf"], "but one can become one with a reload"
    files = render(plan, replace(context(plan), http_port=0))
    assert "transport-ws" not in files["pjsip.conf"] and files["http.conf"] == "[general]\nenabled=no\n"


def test_the_file_says_which_phone_and_refuses_others(tmp_path: Path) -> None:
    plan = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    plan["agents"][0]["phone"] = "webrtc"
    plan["agents"][1]["phone"] = "browser"
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    errors = check_dialplan(path)
    assert len(errors) == 1 and "phone 'browser' is not one of sip, webrtc" in errors[0].message
    plan["agents"][1].pop("phone")
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert [a.phone for a in load_dialplan(path).agents][:2] == ["webrtc", "sip"]


def test_on_a_media_node_a_browser_phone_keeps_webrtc_media_and_is_reached_through_the_front_door() -> None:
    plan = with_browser_phone(load_dialplan(SHIPPED))
    files = render(plan, replace(context(plan), phones_via="sip:10.77.9.3:5060"))
    assert check_rendered(files) == []
    browser = section(files[PHONES_PJSIP], "8002", "endpoint")
    for line in ("transport=transport-udp", "webrtc=yes", "media_encryption=dtls", "ice_support=yes", "use_avpf=yes"):
        assert f"{line}\n" in browser, line  # signalling over the node's UDP to Kamailio, which holds the websocket
    assert "transport-ws" not in browser
    assert "contact=sip:8002@10.77.9.3:5060\n" in section(files[PHONES_PJSIP], "8002", "aor")
