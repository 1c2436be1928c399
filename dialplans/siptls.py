"""SIP over TLS with SRTP for the phones (agents and supervisors), on when the deployment gives a certificate.

Then the phones' endpoints are reached over `transport-tls` only, with SDES-SRTP media and no fallback to
plain RTP; a call a phone places over plain UDP (even with the right password) is hung up before it reaches
the phones' dialplan. The carrier trunk stays on UDP.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.settings import SipEdgeSettings

TRANSPORT = "transport-tls"


@dataclass(frozen=True)
class SipTls:
    """The TLS transport: certificate, key and (optional) CA of the phones' certificates, as Asterisk sees them."""

    cert_file: str
    key_file: str
    ca_file: str = ""  # when given, phones must present a certificate it signed
    port: int = 5061


def tls_transport(tls: SipTls, bind_host: str) -> str:
    """The TLS transport section (TLS 1.2 or newer)."""
    clients = (f"ca_list_file={tls.ca_file}\nverify_client=yes\nrequire_client_cert=yes\n" if tls.ca_file
               else "verify_client=no\n")
    return f"""
; SIP over TLS for the phones (TLS 1.2 or newer)
[{TRANSPORT}]
type=transport
protocol=tls
bind={bind_host}:{tls.port}
cert_file={tls.cert_file}
priv_key_file={tls.key_file}
{clients}method=tlsv1_2
"""


def phone_media(tls: SipTls | None) -> str:
    """A phone endpoint's transport and media lines: TLS with SRTP only when TLS is on."""
    if tls is None:
        return "transport=transport-udp\n"
    return f"transport={TRANSPORT}\nmedia_encryption=sdes\nmedia_encryption_optimistic=no\n"


def phone_context(tls: SipTls | None, context: str) -> str:
    """Where a phone's calls start: its context, behind the secure-signalling check when TLS is on."""
    return f"{context}-tls" if tls is not None else context


def secure_only(contexts: tuple[str, ...]) -> str:
    """Dialplan in front of the phones' contexts: a call that did not come over TLS is refused (403-like)."""
    return "".join(f"""
; TLS is on: a call from a phone goes on to [{context}] only if it came over TLS (with SRTP, said by its endpoint)
[{context}-tls]
exten => _[*0-9].,1,GotoIf($["${{CHANNEL(pjsip,secure)}}" = "1"]?{context},${{EXTEN}},1)
 same => n,UserEvent(HotlinePhoneInsecure,Phone: ${{CHANNEL(endpoint)}},Exten: ${{EXTEN}})
 same => n,Hangup(21)
""" for context in contexts)


def install(edge: SipEdgeSettings, data: DataDirs) -> SipTls | None:
    """Copy the deployment's certificate, key and CA into the Asterisk root (readable by the service only);
    None when TLS is off."""
    if not edge.tls:
        return None
    folder = data.inner_of("tls")
    data.host(folder).chmod(0o700)
    inner: dict[str, str] = {}
    for name, source in (("cert.pem", edge.tls_cert), ("key.pem", edge.tls_key), ("ca.pem", edge.tls_ca)):
        if not source:
            continue
        target = data.host(f"{folder}/{name}")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Path(source).read_bytes())
        inner[name] = f"{folder}/{name}"
    return SipTls(inner["cert.pem"], inner["key.pem"], inner.get("ca.pem", ""), edge.tls_port)
