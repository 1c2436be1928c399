"""Configs every instance gets, whatever its role: directories, modules, logging, quiet defaults."""

from __future__ import annotations

# Modules that fail, decline without a config, or are not wanted in a root like this (ASTERISK.md).
NOLOAD = (
    "chan_dahdi", "app_voicemail_odbc", "app_voicemail_imap", "pbx_lua", "pbx_ael", "chan_iax2",
    "chan_unistim", "chan_mgcp", "chan_skinny", "pbx_dundi", "res_hep", "res_hep_pjsip", "res_hep_rtcp",
    "cdr_radius", "cel_radius", "chan_ooh323", "chan_mobile", "res_config_ldap", "res_pjsip_notify",
    "res_parking", "app_agent_pool", "res_calendar", "res_calendar_caldav", "res_calendar_ews",
    "res_calendar_exchange", "res_calendar_icalendar", "res_prometheus", "cdr_custom", "cel_custom",
    "cdr_pgsql", "cel_pgsql", "cdr_tds", "cel_tds", "app_festival", "res_snmp", "app_followme",
    "cdr_sqlite3_custom", "cel_sqlite3_custom", "cdr_odbc", "cel_odbc", "cdr_adaptive_odbc",
    "res_config_odbc", "res_odbc", "res_odbc_transaction", "res_config_mysql", "res_config_pgsql",
    "res_config_sqlite3", "cdr_beanstalkd", "cel_beanstalkd", "res_corosync", "res_phoneprov",
    "res_pjsip_phoneprov_provider", "chan_console", "chan_alsa", "chan_oss", "res_xmpp", "chan_motif",
    "res_stasis_mailbox", "res_mwi_external", "res_mwi_external_ami", "res_ari_mailboxes",
    "app_minivm", "res_smdi", "app_jack", "res_fax_spandsp", "res_statsd", "res_chan_stats",
    "res_endpoint_stats", "cdr_manager", "res_aeap", "res_speech_aeap", "chan_websocket",
    "res_resolver_unbound", "func_odbc", "cdr_csv", "app_alarmreceiver", "res_stir_shaken",
    "res_pjsip_stir_shaken", "res_websocket_client", "app_voicemail", "res_http_media_cache",
    "res_clialiases", "res_adsi", "app_adsiprog", "app_getcpeid", "res_pjsip_config_wizard",
    # ARI is not used (our adapters are AMI and FastAGI); it needs res_websocket_client.
    "res_ari", "res_ari_applications", "res_ari_asterisk", "res_ari_bridges", "res_ari_channels",
    "res_ari_device_states", "res_ari_endpoints", "res_ari_events", "res_ari_model", "res_ari_playbacks",
    "res_ari_recordings", "res_ari_sounds", "app_stasis", "res_stasis_broadcast", "app_stasis_broadcast",
)


def logger_conf(full: bool = False) -> str:
    """Asterisk's logs: notices, warnings and errors in `messages`, rotated by timestamp on `logger rotate`
    (messages.<epoch>, then deleted after the logs' retention period). The full log of verbose call lines
    (callers' numbers, keys pressed) only when debugging (`full`: HOTLINE_ASTERISK_FULL_LOG=1)."""
    verbose = "full => notice,warning,error,verbose(3),dtmf\n" if full else ""
    return (f"[general]\ndateformat=%F %T.%3q\nrotatestrategy=timestamp\n\n[logfiles]\n"
            f"messages => notice,warning,error\n{verbose}console => notice,warning,error\n")


def base_configs(inner_dir: str, system_name: str = "") -> dict[str, str]:
    """asterisk.conf pointing every directory into `inner_dir`, plus quiet module and log settings; a
    `system_name` prefixes every Uniqueid (several nodes serving one service)."""
    named = f"systemname = {system_name}\n" if system_name else ""
    noload = "\n".join(f"noload => {m}.so" for m in NOLOAD)
    return {
        "asterisk.conf": f"""[directories]
astetcdir => {inner_dir}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => {inner_dir}/db
astkeydir => {inner_dir}
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {inner_dir}/spool
astrundir => {inner_dir}/run
astlogdir => {inner_dir}/log
astsbindir => /usr/sbin

[options]
nocolor = yes
dontwarn = yes
hideconnect = yes
transmit_silence = yes
{named}""",
        "modules.conf": f"[modules]\nautoload=yes\n{noload}\n",
        "logger.conf": logger_conf(),
        "queues.conf": "[general]\n",
        "confbridge.conf": "[general]\n",
        "amd.conf": "[general]\n",
        "cdr.conf": "[general]\nenable=no\n",
        "cel.conf": "[general]\nenable=no\n",
        "http.conf": "[general]\nenabled=no\n",
        "rtp.conf": "[general]\nrtpstart=20000\nrtpend=30000\n",
        "indications.conf": "[general]\ncountry=cn\n\n[cn]\ndescription = China\nringcadence = 1000,4000\n"
        "dial = 450\nring = 450/1000,0/4000\nbusy = 450/350,0/350\ncongestion = 450/700,0/700\n"
        "callwaiting = 450/400,0/4000\n",
        "musiconhold.conf": "[default]\nmode=files\ndirectory=/usr/share/asterisk/moh\n",
        "manager.conf": "[general]\nenabled=no\n",
        "extensions.conf": "[general]\nstatic=yes\n",
        "pjsip.conf": "",
        "ari.conf": "[general]\nenabled=no\n",
        "stasis.conf": "",
        "ccss.conf": "",
        "features.conf": "",
        "res_stun_monitor.conf": "",
        "pjproject.conf": "",
        "acl.conf": "",
        "udptl.conf": "",
        "dsp.conf": "",
        "codecs.conf": "",
        "sorcery.conf": "",
        "extconfig.conf": "",
        "statsd.conf": "",
        "queuerules.conf": "",
        "res_fax.conf": "",
        "geolocation.conf": "",
    }
