"""The case-system adapter's section of the settings (`HOTLINE_CASE_*`, `HOTLINE_REFCASE_ADVANCE_S`)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.settings import env_field, env_flag


@dataclass(frozen=True)
class CaseSystemSettings:
    # the case system tickets go to: empty starts the reference case system (integration/refcase)
    url: str = env_field("CASE_URL", "")
    # the URL is a reference case system run apart (docker/) with this deployment's generated keys: no secrets here
    reference: bool = env_flag("CASE_REFERENCE", False)
    secret: str = env_field("CASE_SECRET", "")  # signs what we send
    webhook_secret: str = env_field("CASE_WEBHOOK_SECRET", "")  # signs the events it sends back
    mapping: str = env_field("CASE_MAPPING", "")  # field mapping file
    timeout_s: float = env_field("CASE_TIMEOUT_S", "10", float)
    max_backoff_s: float = env_field("CASE_MAX_BACKOFF_S", "60", float)
    # the reference case system moves each open case one status step this often (0: only by its admin API)
    refcase_advance_s: float = env_field("REFCASE_ADVANCE_S", "60", float)
