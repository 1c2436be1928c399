"""The ICE servers the browser phones use (`HOTLINE_PHONE_ICE_SERVERS`: comma-separated stun:/turn: URLs, with
`HOTLINE_PHONE_TURN_USERNAME` / `HOTLINE_PHONE_TURN_CREDENTIAL` for the TURN ones). None by default: on one
network the browser and Asterisk reach each other by their host candidates."""

from __future__ import annotations

from hotline.core.settings import env

IceServer = dict[str, object]


def ice_servers(urls: str | None = None, username: str | None = None, credential: str | None = None,
                ) -> list[IceServer]:
    """RTCPeerConnection's `iceServers` from the settings (or the given values)."""
    urls = env("PHONE_ICE_SERVERS", "") if urls is None else urls
    username = env("PHONE_TURN_USERNAME", "") if username is None else username
    credential = env("PHONE_TURN_CREDENTIAL", "") if credential is None else credential
    out: list[IceServer] = []
    for url in filter(None, (u.strip() for u in urls.split(","))):
        if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
            raise ValueError(f"HOTLINE_PHONE_ICE_SERVERS: {url!r} is not a stun: or turn: URL")
        server: IceServer = {"urls": url}
        if url.startswith("turn") and username:
            server.update(username=username, credential=credential)
        out.append(server)
    return out
