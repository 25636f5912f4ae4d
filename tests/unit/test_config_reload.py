"""What SIGHUP may change in a running `ivr serve`, and what the log must say needs a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ivr.config import load_config
from ivr.config.reload import apply, changes


def conf(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n{text}", encoding="utf-8")
    return path


def test_nothing_changed_is_nothing() -> None:
    assert not changes(load_config(Path("sip.conf.example")), load_config(Path("sip.conf.example")))


def test_call_settings_reload_and_are_named_by_setting(tmp_path: Path) -> None:
    old = load_config(conf(tmp_path, ""))
    new = load_config(
        conf(
            tmp_path,
            "log_level = debug\n[menu]\ntries = 5\nunknown_callers = refuse\n"
            "[hours]\nopen = 08:00\n[support]\nticket = ring us\n"
            "[sla]\ncritical = ack 1 clock, respond 3 clock, resolve 24 clock\n"
            "[paging]\nrepeats = 3\n",
        )
    )
    found = changes(old, new)
    assert found.reloaded == (
        "[general] log_level",
        "[menu] tries",
        "[menu] unknown_callers",
        "[hours] open",
        "[support] ticket",
        "[paging]",
        "[sla]",
    )
    assert found.need_restart == ()
    applied = apply(old, new)
    assert applied.menu.tries == 5 and applied.hours == new.hours and applied.sla == new.sla


def test_what_the_process_is_built_around_needs_a_restart(tmp_path: Path) -> None:
    old = load_config(conf(tmp_path, "listen = 127.0.0.1:5060\n"))
    new = load_config(
        conf(
            tmp_path,
            "listen = 127.0.0.1:5070\nmetrics_listen =\n[menu]\ntries = 4\n"
            "[trunk]\npassword = s3cret\n[web]\nlisten = 127.0.0.1:8181\n",
        )
    )
    new = dataclasses.replace(new, database_url=f"sqlite:///{tmp_path}/y.db")
    found = changes(old, new)
    assert found.reloaded == ("[menu] tries",)
    assert found.need_restart == (
        "[general] listen",
        "[general] database",
        "[general] metrics_listen",
        "[trunk]",
    )
    assert found.not_served == ("[web]",)
    applied = apply(old, new)
    # Only the reloadable part is taken: the rest stays as the process was built.
    assert applied.menu.tries == 4
    assert (applied.listen_port, applied.database_url) == (old.listen_port, old.database_url)
    assert applied.trunk == old.trunk and applied.metrics_listen == old.metrics_listen
