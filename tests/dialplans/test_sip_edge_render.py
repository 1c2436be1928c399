"""The SIP edge as the dialplan file and the renderer shape it: carriers known by address only (and not by any
address), phones by their user with a password, AMI for the service's own address."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialplans.confcheck import check_rendered
from dialplans.loader import check_dialplan, load_dialplan
from dialplans.phones import PHONES_PJSIP
from dialplans.render import RenderContext, render
from dialplans.siptls import SipTls
from hotline.core.asterisk.sipbans import BANS_FILE

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
TRUNK = "    match: [127.0.0.1]"


def rendered(bind: str = "127.0.0.1", tls: SipTls | None = None) -> dict[str, str]:
    plan = load_dialplan(SHIPPED)
    phones = [*(a.id for a in plan.agents), *(s.id for s in plan.supervisors)]
    files = render(plan, RenderContext(bind, 5060, 5038, "hotline", "s3cret", "127.0.0.1", 4573, "/r", "/s",
                                       {p: f"pw{p}" for p in phones}, tls=tls))
    assert check_rendered(files) == []
    return files


def pjsip_and_manager(bind: str = "127.0.0.1") -> tuple[str, str]:
    files = rendered(bind)
    return pjsip_read(files), files["manager.conf"]


def pjsip_read(files: dict[str, str]) -> str:
    """pjsip.conf as Asterisk reads it: with the phones' file it includes."""
    assert f"#include {PHONES_PJSIP}" in files["pjsip.conf"]
    return files["pjsip.conf"] + files[PHONES_PJSIP]


def section(conf: str, name: str, kind: str) -> str:
    """The body of `[name]` of `type=kind`."""
    for chunk in conf.split(f"\n[{name}]\n")[1:]:
        body = chunk.split("\n[", 1)[0]
        if f"type={kind}\n" in body:
            return body
    raise AssertionError(f"no [{name}] type={kind}")


def test_carriers_are_known_by_address_only_and_phones_by_user_with_a_password() -> None:
    pjsip, _ = pjsip_and_manager()
    settings = [line for line in pjsip.splitlines() if line and not line.startswith(";")]
    assert "endpoint_identifier_order=username,ip" in settings
    assert not any("anonymous" in line for line in settings), "no anonymous identifier or endpoint"
    carrier = section(pjsip, "carrier", "endpoint")
    assert "identify_by=ip\n" in carrier and "auth=" not in carrier
    assert "match=127.0.0.1\n" in section(pjsip, "carrier", "identify")
    for phone in ("8001", "9001"):
        endpoint = section(pjsip, phone, "endpoint")
        assert "identify_by=username\n" in endpoint and f"auth={phone}-auth\n" in endpoint
    assert f"#tryinclude {BANS_FILE}\n" in pjsip, "the SIP guard's bans"


@pytest.mark.parametrize(("bind", "permit"), [("127.0.0.1", "127.0.0.1/32"), ("0.0.0.0", "127.0.0.1/32"),
                                              ("10.1.2.3", "10.1.2.3/32"), ("::1", "::1/128")])
def test_ami_is_bound_to_the_services_address_and_takes_logins_from_there_only(bind: str, permit: str) -> None:
    _, manager = pjsip_and_manager(bind)
    host = permit.split("/")[0]
    assert f"bindaddr={host}\n" in manager
    assert f"deny=0.0.0.0/0.0.0.0\npermit={permit}\n" in manager
    assert manager.count("permit=") == 1


def check_with_match(tmp_path: Path, match: str) -> list[str]:
    text = SHIPPED.read_text()
    assert TRUNK in text
    path = tmp_path / "hotline.yaml"
    path.write_text(text.replace(TRUNK, match))
    return [str(e) for e in check_dialplan(path)]


def trunk_line() -> int:
    return next(i for i, line in enumerate(SHIPPED.read_text().splitlines(), 1) if line.startswith(TRUNK))


@pytest.mark.parametrize("wide", ["0.0.0.0/0", "::/0", "10.0.0.0/8", "203.0.0.0/15", "2001:db8::/32",
                                  "sip.carrier.example", "0.0.0.0/0.0.0.0"])
def test_a_catch_all_match_is_refused_at_its_line_with_the_fix(tmp_path: Path, wide: str) -> None:
    (error,) = check_with_match(tmp_path, f"    match: [203.0.113.10, \"{wide}\"]")
    assert error.startswith(f"{tmp_path / 'hotline.yaml'}:{trunk_line()}: trunks[0].match '{wide}' ")
    assert "allow_wide_match: true" in error and "/16" in error


@pytest.mark.parametrize("narrow", ["203.0.113.10", "203.0.113.0/24", "172.16.0.0/16", "2001:db8:1::/48",
                                    "2001:db8::7"])
def test_the_carriers_own_addresses_pass(tmp_path: Path, narrow: str) -> None:
    assert check_with_match(tmp_path, f"    match: [\"{narrow}\"]") == []


def test_a_wide_match_said_on_purpose_passes_and_a_bad_flag_is_located(tmp_path: Path) -> None:
    assert check_with_match(tmp_path, "    match: [10.0.0.0/8, sip.carrier.example]\n    allow_wide_match: true") == []
    flag, match = check_with_match(tmp_path, "    match: [10.0.0.0/8]\n    allow_wide_match: yes please")
    assert f":{trunk_line()}: trunks[0].match '10.0.0.0/8'" in flag + match, "not wide on purpose until it says so"
    assert f":{trunk_line() + 1}: trunks[0].allow_wide_match must be true or false" in flag + match
    plan_file = tmp_path / "hotline.yaml"
    plan_file.write_text(SHIPPED.read_text().replace(TRUNK, "    match: [10.0.0.0/8]\n    allow_wide_match: true"))
    assert load_dialplan(plan_file).trunks[0].allow_wide_match


@pytest.mark.parametrize("ca", ["/srv/tls/ca.pem", ""])
def test_with_tls_the_phones_are_reached_over_tls_with_srtp_only_and_the_carrier_stays_on_udp(ca: str) -> None:
    files = rendered(tls=SipTls("/srv/tls/cert.pem", "/srv/tls/key.pem", ca, 5061))
    pjsip, extensions = pjsip_read(files), files["extensions.conf"]
    transport = section(pjsip, "transport-tls", "transport")
    assert "protocol=tls\nbind=127.0.0.1:5061\n" in transport and "method=tlsv1_2\n" in transport
    assert "cert_file=/srv/tls/cert.pem\npriv_key_file=/srv/tls/key.pem\n" in transport
    assert ("require_client_cert=yes" in transport) == bool(ca) and ("verify_client=yes" in transport) == bool(ca)
    for phone, context in (("8001", "agents"), ("9001", "supervisors")):
        endpoint = section(pjsip, phone, "endpoint")
        assert "transport=transport-tls\nmedia_encryption=sdes\nmedia_encryption_optimistic=no\n" in endpoint
        assert f"context={context}-tls\n" in endpoint
        assert f"[{context}-tls]\nexten => _[*0-9].,1,GotoIf($[\"${{CHANNEL(pjsip,secure)}}\" = \"1\"]?{context}," \
               in extensions
    assert "transport=transport-udp\n" in section(pjsip, "carrier", "endpoint")
    assert "media_encryption" not in section(pjsip, "carrier", "endpoint")


def test_without_tls_nothing_of_it_is_rendered() -> None:
    files = rendered()
    assert "transport-tls" not in files["pjsip.conf"] and "media_encryption" not in files["pjsip.conf"]
    assert "-tls]" not in files["extensions.conf"]
