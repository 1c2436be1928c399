"""SIP over TLS with SRTP for the phones (issue 15, telephony edge → SIP), on the real stack: a CA and the
hotline's certificate are made here; the world's phones register over TLS (presenting a certificate of that
CA), a citizen's call reaches an agent over TLS with SRTP, a phone's own call works over TLS — and the same
phone calling over plain UDP with the right password is refused."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from hotline.core.netutil import free_port
from hotline.core.settings import SipEdgeSettings
from integration.world.call import WorldCaller
from tests.e2e.conftest import only_ready, running_stack, stack_settings
from tests.security.sip_probe import sip_request

pytestmark = pytest.mark.asterisk
HOTLINE = "127.0.0.1"


def make_certificates(folder: Path) -> SipEdgeSettings:
    """A CA and a certificate for 127.0.0.1 it signed (server and client use), with openssl."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=12345 test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "hotline.csr",
            "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    openssl("x509", "-req", "-in", "hotline.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf")
    return SipEdgeSettings(tls_cert=str(folder / "cert.pem"), tls_key=str(folder / "key.pem"),
                           tls_ca=str(folder / "ca.pem"), tls_port=free_port())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("home"))
    edge = make_certificates(tmp_path_factory.mktemp("tls"))
    async with running_stack(replace(settings, core=replace(settings.core, sip=edge))) as s:
        yield s


async def hotline_channel(stack: Stack, prefix: str, timeout: float = 15.0) -> str:
    """The name of the hotline's first channel starting with `prefix`, waiting for it."""
    assert stack.ami is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for channel in await stack.ami.action_list("CoreShowChannels"):
            if str(channel.get("Channel", "")).startswith(prefix):
                return str(channel["Channel"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"no hotline channel {prefix}* within {timeout}s")


async def secure(stack: Stack, channel: str, timeout: float = 10.0) -> tuple[str, str]:
    """(signalling over TLS, media over SRTP) of a hotline channel once it is answered, as Asterisk says ('1')."""
    assert stack.ami is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        values = []
        for variable in ("CHANNEL(pjsip,secure)", "CHANNEL(rtp,secure)"):
            reply = await stack.ami.action("Getvar", {"Channel": channel, "Variable": variable})
            values.append(str(reply.get("Value", "")))
        if values == ["1", "1"] or asyncio.get_running_loop().time() >= deadline:
            return values[0], values[1]
        await asyncio.sleep(0.3)


@pytest.mark.asyncio(loop_scope="module")
async def test_phones_register_over_tls_and_an_agent_takes_a_call_with_srtp(stack: Stack,
                                                                            world_caller: WorldCaller) -> None:
    assert stack.hotline is not None
    contacts = await stack.hotline.cli("pjsip show contacts")
    assert "8001/sip:8001@" in contacts and ";transport=tls" in contacts.split("8001/sip:8001@")[1].split()[0].lower()
    await only_ready(stack, "8001")
    call = await world_caller.start("12345", "13800138000", script="wait:25")
    await call.answered()
    agent_leg = await hotline_channel(stack, "PJSIP/8001-")
    assert await secure(stack, agent_leg) == ("1", "1"), "TLS signalling and SRTP media to the agent's phone"
    await call.hangup()
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.agent == "8001", outcome.record


@pytest.mark.asyncio(loop_scope="module")
async def test_a_phone_calls_over_tls_with_srtp_and_never_over_plain_udp(stack: Stack,
                                                                         world_caller: WorldCaller) -> None:
    assert stack.ami is not None and stack.render_context is not None
    call = await world_caller.start("*43", "8002", script="wait:3", via="phone-8002")  # the echo test
    await call.answered(timeout=15)
    assert await secure(stack, await hotline_channel(stack, "PJSIP/8002-")) == ("1", "1")
    await call.outcome()

    insecure: list[str] = []
    sub = stack.ami.subscribe("UserEvent", lambda e: insecure.append(str(e.get("Phone")))
                              if e.get("UserEvent") == "HotlinePhoneInsecure" else None)
    try:
        password = stack.render_context.agent_secrets["8002"]
        port = stack.settings.core.ports.hotline_sip
        for srtp in (False, True):  # plain RTP is refused by the endpoint, SRTP over UDP by the dialplan
            probe = await sip_request("INVITE", source=HOTLINE, host=HOTLINE, port=port, user="8002",
                                      to_user="*43", password=password, srtp=srtp)
            assert probe.statuses[0] == 401 and 400 <= probe.final < 700 and probe.final != 401, probe.statuses
        for _ in range(50):  # the check's event comes over AMI, after the SIP answer: under load, later
            if insecure:
                break
            await asyncio.sleep(0.1)
        assert insecure == ["8002"], "the SRTP offer over UDP reached the check, which refused it"
    finally:
        sub.cancel()


async def tls_hello(stack: Stack, folder: Path, with_certificate: bool) -> str:
    """Open TLS to the hotline's SIP port trusting the test CA, with or without a client certificate, and send
    OPTIONS; the first line of the answer, or the TLS error."""
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    if with_certificate:
        context.load_cert_chain(str(folder / "cert.pem"), str(folder / "key.pem"))
    port = stack.settings.core.sip.tls_port
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOTLINE, port, ssl=context), 5)
        writer.write((f"OPTIONS sip:{HOTLINE}:{port};transport=tls SIP/2.0\r\n"
                      f"Via: SIP/2.0/TLS {HOTLINE}:1;branch=z9hG4bKtlsprobe1\r\nMax-Forwards: 70\r\n"
                      f"From: <sip:probe@{HOTLINE}>;tag=1\r\nTo: <sip:{HOTLINE}>\r\nCall-ID: tls-probe\r\n"
                      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
        await writer.drain()
        line = (await asyncio.wait_for(reader.readline(), 5)).decode().strip()
        writer.close()
        return line or "closed"
    except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError) as exc:
        return f"refused: {type(exc).__name__}"


@pytest.mark.asyncio(loop_scope="module")
async def test_the_tls_port_takes_only_clients_with_a_certificate_of_the_ca(stack: Stack) -> None:
    folder = Path(stack.settings.core.sip.tls_ca).parent
    assert (await tls_hello(stack, folder, with_certificate=True)).startswith("SIP/2.0 ")
    assert (await tls_hello(stack, folder, with_certificate=False)).startswith("refused")
