"""docker/'s compose files, checked without a Docker daemon: valid against the Compose Specification's schema,
only loopback ports, no variable the code does not read, every command one the images can run."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from hotline.app.cli import main as hotline_main
from tests.docker.dockerfile import COMPOSE_FILES, DOCKER, REPO, argv, compose, effective, stages

PACKAGES = ("hotline", "acd", "ivr", "recordings", "callback", "integration", "dialplans", "tickets", "desk",
            "console", "knowledge")
# Variables the cluster layout sets that another part of issue 18 adds to the settings; each must leave this list
# once its part has landed (the test below fails while a listed name is already read).
PENDING_VARIABLES: dict[str, str] = {}
# Command-line options the images call that another part adds (same rule).
PENDING_OPTIONS: dict[tuple[str, ...], str] = {}
# Variables of images that are not ours, by the program that reads them.
THIRD_PARTY = {"POSTGRES_USER": "postgres image", "POSTGRES_DB": "postgres image",
               "POSTGRES_PASSWORD": "postgres image", "REDISCLI_AUTH": "redis-cli"}
# What an operator gives compose (docker/make-env.sh writes the passwords; README names the dialplan file).
INTERPOLATED = {"HOTLINE_DB_PASSWORD", "HOTLINE_REDIS_PASSWORD", "HOTLINE_DIALPLAN_FILE"}


def read_variables() -> set[str]:
    """Every environment variable the project's code reads: HOTLINE_<name> through the settings' env helpers,
    and names read from os.environ directly."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names |= {f"HOTLINE_{n}" for n in re.findall(r"\benv(?:_field|_flag)?\(\s*\"([A-Z0-9_]+)\"", text)}
            names |= set(re.findall(r"environ(?:\.get)?[\[(]\s*\"([A-Z0-9_]+)\"", text))
    return names


def services() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in COMPOSE_FILES:
        for name, service in compose(path)["services"].items():
            yield path, name, service


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid_against_the_compose_specification(path: Path) -> None:
    schema = json.loads((DOCKER / "compose-spec.json").read_text())
    Draft7Validator.check_schema(schema)
    errors = sorted(Draft7Validator(schema).iter_errors(compose(path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file() -> None:
    schema = json.loads((DOCKER / "compose-spec.json").read_text())
    broken = compose(COMPOSE_FILES[0])
    broken["services"]["service"]["ports"] = [{"published": "8080", "bogus": True}]
    broken["services"]["redis"]["restart_policy"] = "always"
    assert len(list(Draft7Validator(schema).iter_errors(broken))) >= 2


def test_only_loopback_ports_are_published() -> None:
    for path, name, service in services():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{path.name} {name}: {port}"


def test_every_variable_set_is_one_the_code_reads() -> None:
    read = read_variables()
    assert {"HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL", "HOTLINE_CASE_REFERENCE"} <= read  # the scan finds them
    for path, name, service in services():
        for key in service.get("environment", {}):
            if key in THIRD_PARTY or key in PENDING_VARIABLES:
                continue
            assert key in read, f"{path.name} {name}: {key} is read by no settings (a typo, or a removed setting?)"


def test_pending_variables_leave_the_list_once_read() -> None:
    landed = sorted(set(PENDING_VARIABLES) & read_variables())
    assert not landed, f"the code reads {landed} now: remove them from PENDING_VARIABLES"


def test_interpolated_variables_are_the_documented_ones() -> None:
    readme = (DOCKER / "README.md").read_text()
    for path in COMPOSE_FILES:
        used = set(re.findall(r"\$\{([A-Z0-9_]+)", path.read_text()))
        assert used <= INTERPOLATED, f"{path.name}: {used - INTERPOLATED}"
        assert all(name in readme for name in used)
    assert {"HOTLINE_DB_PASSWORD", "HOTLINE_REDIS_PASSWORD"} <= set(
        re.findall(r"([A-Z_]+)=%s", (DOCKER / "make-env.sh").read_text()))


def test_build_targets_exist_in_the_dockerfile() -> None:
    for path, name, service in services():
        if "build" in service:
            build = service["build"]
            assert (path.parent / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
            assert build["target"] in stages(DOCKER / "Dockerfile"), f"{path.name} {name}"


def _commands() -> Iterator[tuple[str, list[str]]]:
    """Every program our images run: each compose service's command, else its image target's CMD, and the
    targets' healthchecks."""
    all_stages = stages(DOCKER / "Dockerfile")
    targets = {f"hotline/{target}:dev": target for target in all_stages}
    for path, name, service in services():
        target = targets.get(service.get("image", ""))
        if target is None:
            continue  # not our image (postgres)
        cmd = effective(all_stages, target, "CMD")
        command = service.get("command") or (cmd.exec_form() if cmd else [])
        for words in argv(command):
            yield f"{path.name} {name}", words
    for target in all_stages:
        if (check := effective(all_stages, target, "HEALTHCHECK")) is not None:
            for words in argv(check.exec_form()):
                yield f"Dockerfile {target} healthcheck", words


def _run_help(run: list[str]) -> None:
    if run[0] == "hotline":
        hotline_main([*run[1:], "--help"])
        return
    spec = importlib.util.find_spec(run[2])
    assert spec is not None, f"no module {run[2]}"
    module = importlib.import_module(f"{run[2]}.__main__" if spec.submodule_search_locations else run[2])
    saved = sys.argv
    sys.argv = [run[2], "--help"]
    try:
        module.main()  # what `python -m` runs: its __main__'s main()
    finally:
        sys.argv = saved


def _help(run: list[str]) -> str:
    """`--help` of a hotline (sub)command or a Python module's argparse, run in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        _run_help(run)
    assert exited.value.code == 0, f"{run}: exit {exited.value.code}"
    return out.getvalue()


def _split(words: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the command without its options, the long options it passes)."""
    options = tuple(w.split("=")[0] for w in words if w.startswith("--"))
    if words[:2] == ["python", "-m"]:
        return tuple(words[:3]), options
    return tuple(words[: next((i for i, w in enumerate(words) if w.startswith("-")), len(words))]), options


def test_every_command_the_images_run_exists() -> None:
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for where, words in _commands():
        if words[0] != "hotline" and words[:2] != ["python", "-m"]:
            continue  # Debian's programs (kamailio, redis-server, kamcmd)
        command, options = _split(words)
        if (command, options) in seen:
            continue
        seen.add((command, options))
        if command == ("python", "-m", "hotline.app.probe"):
            continue  # takes a URL, no options: tests/app/test_probe.py runs it
        text = _help(list(command))
        for option in options:
            if (*command, option) not in PENDING_OPTIONS:
                assert option in text, f"{where}: `{' '.join(command)}` has no {option}"
    # service, first-start, media (run, health), refcase (run), kamailio
    assert {c for c, _ in seen} >= {("hotline", "run"), ("hotline", "media-node"),
                                    ("hotline", "dialplan", "render"), ("python", "-m", "integration.refcase")}


def test_pending_options_leave_the_list_once_there() -> None:
    for (*command, option), owner in PENDING_OPTIONS.items():
        assert option not in _help(command), f"{' '.join(command)} has {option} now ({owner}): unlist it"


def test_the_media_nodes_and_the_services_share_one_store_of_recordings() -> None:
    """Nodes record where `hotline dialplan render` points them; services read their home's data folder."""
    from hotline.app.medianode import RENDERED_DATA
    from hotline.core.asterisk.datadirs import DataDirs
    from hotline.core.asterisk.root import AsteriskRoot

    cluster = compose(COMPOSE_FILES[1])["services"]
    inner = DataDirs.for_home(AsteriskRoot(Path("/opt/asterisk-root")), Path("/var/lib/hotline")).inner
    mounts = {name: [v for v in cluster[name]["volumes"] if v.startswith("media-data:")]
              for name in ("media-a", "media-b", "service-a", "service-b")}
    assert mounts["media-a"] == mounts["media-b"] == [f"media-data:/opt/asterisk-root{RENDERED_DATA}"]
    assert mounts["service-a"] == mounts["service-b"] == [f"media-data:/opt/asterisk-root{inner}"]
    # the key is the home's: the image's /var/lib/hotline, which no service moves
    assert "HOTLINE_HOME_DIR=/var/lib/hotline" in (DOCKER / "Dockerfile").read_text()
    assert not any("HOTLINE_HOME_DIR" in service.get("environment", {}) for _, _, service in services())
