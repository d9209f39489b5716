"""Detection config: YAML with enabled flags, failing loudly when broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.errors import ConfigError
from distillguard.signals import BUILTIN, load_config, parse_config


def test_default_config_enables_every_builtin() -> None:
    cfg = load_config()
    assert {w.signal.name for w in cfg.signals} == set(BUILTIN)
    assert 0 < cfg.target_fpr < 0.1
    assert cfg.get_params()["signals"]["template_family"]["weight"] > 0


def test_tail_ratio_is_read_and_defaults_to_the_symmetric_null() -> None:
    assert load_config().tail_ratio > 1.0  # the shipped config: the right-skewed null
    assert parse_config({"signals": {"volume": {}}}, "t").tail_ratio == 1.0
    cfg = parse_config({"scoring": {"tail_ratio": 1.12}, "signals": {"volume": {}}}, "t")
    assert cfg.tail_ratio == 1.12 and cfg.get_params()["tail_ratio"] == 1.12


def test_disabled_signal_is_left_out() -> None:
    cfg = parse_config({"signals": {"volume": {"enabled": False},
                                    "automation": {"weight": 2}}}, "t")
    assert [w.signal.name for w in cfg.signals] == ["automation"]


@pytest.mark.parametrize("doc", [
    {"signals": {"nope": {}}},
    {"signals": {"volume": {"weight": -1}}},
    {"signals": {"volume": {"enabled": "yes"}}},
    {"signals": {"volume": {"params": {"no_such_param": 1}}}},
    {"signals": {"volume": {"enabled": False}}},
    {"signals": {}, "extra": 1},
    {"scoring": {"target_fpr": 2}, "signals": {"volume": {}}},
    {"scoring": {"tail_ratio": 0}, "signals": {"volume": {}}},
    {"scoring": {"tail_ratio": "wide"}, "signals": {"volume": {}}},
    ["not", "a", "mapping"],
])
def test_broken_config_raises(doc: object) -> None:
    with pytest.raises(ConfigError):
        parse_config(doc, "t")


def test_unparsable_file_raises(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("signals: [unclosed")
    with pytest.raises(ConfigError):
        load_config(p)
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.yaml")
