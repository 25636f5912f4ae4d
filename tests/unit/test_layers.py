"""The layer contracts cover every top-level module of ivr (the rules are in .importlinter)."""

from __future__ import annotations

import configparser
import pkgutil
from pathlib import Path

import ivr

ROOT = Path(__file__).resolve().parents[2]


def _contract(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / ".importlinter", encoding="utf-8")
    return parser[f"importlinter:contract:{name}"]


def _modules(section: configparser.SectionProxy, key: str) -> set[str]:
    return {line.strip() for line in section[key].splitlines() if line.strip()}


TOP_LEVEL = {f"ivr.{m.name}" for m in pkgutil.iter_modules(ivr.__path__)}


def test_every_module_but_the_store_is_forbidden_sqlalchemy() -> None:
    sources = _modules(_contract("sqlalchemy-only-in-store"), "source_modules")
    assert sources == TOP_LEVEL - {"ivr.store"}


def test_every_module_but_the_sip_layer_is_forbidden_the_engine() -> None:
    sources = _modules(_contract("engine-only-in-sip"), "source_modules")
    assert sources == TOP_LEVEL - {"ivr.sip"}


def test_the_pure_core_is_named() -> None:
    sources = _modules(_contract("pure-core"), "source_modules")
    assert {"ivr.flow", "ivr.paging", "ivr.sla", "ivr.faults", "ivr.domain"} <= sources
