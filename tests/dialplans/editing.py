"""A dialplan editor on a copy of the shipped file, applied to a folder of configs through a scripted reloader
(no Asterisk): for the editor's unit tests and the route walk."""

from __future__ import annotations

import shutil
from pathlib import Path

from dialplans.apply import rendered_configs
from dialplans.editor import DialplanEditor, Target
from dialplans.history import DialplanHistory
from dialplans.loader import load_dialplan
from dialplans.render import RenderContext
from dialplans.secrets import load_or_create_secrets

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


class ScriptedReloader:
    """Counts reloads; refuses the next `refuse` of them, as Asterisk refusing a config would."""

    def __init__(self) -> None:
        self.reloads = 0
        self.refuse = 0

    async def reload(self, modules: list[str]) -> None:
        self.reloads += 1
        if self.refuse:
            self.refuse -= 1
            raise RuntimeError("pbx_config.so: Module 'pbx_config.so' could not be reloaded")


def scripted_editor(folder: Path) -> tuple[DialplanEditor, ScriptedReloader]:
    """The shipped file copied into `folder`, its configs rendered into `folder/etc` as at a start."""
    path = folder / "hotline.yaml"
    shutil.copyfile(SHIPPED, path)
    plan = load_dialplan(path)
    secrets = load_or_create_secrets(folder / "secrets.json", plan)
    ctx = RenderContext("127.0.0.1", 5060, 5038, secrets.ami_user, secrets.ami_secret, "127.0.0.1", 4573,
                        "/srv/rec", "/srv/snd", secrets.agent_secrets, agi_key=secrets.agi_key)
    etc = folder / "etc"
    etc.mkdir()
    for name, text in rendered_configs(plan, ctx).items():
        (etc / name).write_text(text)
    reloader = ScriptedReloader()
    editor = DialplanEditor(path, DialplanHistory(folder / "dialplan-history"), folder / "secrets.json")
    editor.started(Target(etc, ctx, reloader))
    return editor, reloader
