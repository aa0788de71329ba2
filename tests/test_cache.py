"""The start-up cache (bot/cache.py): reused when its key matches, made again when the key
differs or the file is damaged, and a cached start answers exactly as a fresh one."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from bot.cache import Cache
from bot.dialogue import Dialogue


def never() -> dict:
    raise AssertionError("made again although the cache held it")


def test_arrays_are_reused_under_the_same_key_and_remade_under_another(tmp_path):
    made = {"v": np.arange(6, dtype=np.float32).reshape(2, 3)}
    assert Cache(tmp_path, "k1").arrays("vectors", lambda: made)["v"].tolist() == made["v"].tolist()
    assert Cache(tmp_path, "k1").arrays("vectors", never)["v"].tolist() == made["v"].tolist()
    other = {"v": np.zeros((1, 3), dtype=np.float32)}
    assert Cache(tmp_path, "k2").arrays("vectors", lambda: other)["v"].shape == (1, 3)
    assert Cache(tmp_path, "k2").arrays("vectors", never)["v"].shape == (1, 3)


def test_values_are_reused_and_a_damaged_file_is_remade_with_a_warning(tmp_path, caplog):
    value = {"words": {"infusion": 3}, "deletes": {"infusio": ["infusion"]}, "max_length": 8}
    assert Cache(tmp_path, "k").values("spelling", lambda: value) == value
    assert Cache(tmp_path, "k").values("spelling", never) == value
    (tmp_path / "spelling.marshal").write_bytes(b"\x00garbage")
    with caplog.at_level(logging.WARNING, logger="bot.cache"):
        assert Cache(tmp_path, "k").values("spelling", lambda: value) == value
    assert "damaged" in caplog.text and "infusion" not in caplog.text
    assert Cache(tmp_path, "k").values("spelling", never) == value


def test_no_directory_means_always_made(tmp_path):
    with pytest.raises(AssertionError):
        Cache(None, "k").arrays("vectors", never)


QUESTIONS = ["how long does an infusion take", "wat r the side efects", "my lips are swelling and I can't breathe",
             "is ivig safe", "I nearly fainted when I saw the bill", "what about lupus?"]


def test_a_cached_start_answers_exactly_as_a_fresh_one(tmp_path, settings, build):
    cached = settings.with_overrides(index_cache_dir=tmp_path / "cache")
    fresh = Dialogue(build(settings), settings)
    Dialogue(build(cached), cached)  # fills the cache
    assert (tmp_path / "cache" / "triage-net.npz").exists() and (tmp_path / "cache" / "matcher.npz").exists()
    reloaded = Dialogue(build(cached), cached)
    assert reloaded.searcher.from_cache
    for question in QUESTIONS:
        a, b = fresh.to_json(fresh.respond(question)), reloaded.to_json(reloaded.respond(question))
        for reply in (a, b):
            reply.pop("context")
            for passage in reply["passages"]:
                passage["score"] = round(passage["score"], 3)
        assert a == b, question


def test_arrays_that_do_not_fit_are_remade(tmp_path, caplog):
    made = {"v": np.ones((3, 2), dtype=np.float32)}
    fits = lambda arrays: arrays["v"].shape == (3, 2)  # noqa: E731
    Cache(tmp_path, "k").arrays("vectors", lambda: {"v": np.ones((1, 2), dtype=np.float32)})  # saved under the key
    with caplog.at_level(logging.WARNING, logger="bot.cache"):
        assert Cache(tmp_path, "k").arrays("vectors", lambda: made, fits)["v"].shape == (3, 2)
    assert "damaged" in caplog.text
    assert Cache(tmp_path, "k").arrays("vectors", never, fits)["v"].shape == (3, 2)


def test_a_damaged_triage_net_in_the_cache_is_refitted(tmp_path, settings, build, caplog):
    cached = settings.with_overrides(index_cache_dir=tmp_path / "cache")
    Dialogue(build(cached), cached)
    net = tmp_path / "cache" / "triage-net.npz"
    with np.load(net) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["weights"] = arrays["weights"][:5]  # the right key, arrays that do not fit together
    np.savez(net, **arrays)
    with caplog.at_level(logging.WARNING, logger="bot.cache"):
        dialogue = Dialogue(build(cached), cached)
    assert "triage-net" in caplog.text and "damaged" in caplog.text
    assert dialogue.respond("my lips are swelling and my throat is closing").kind == "urgent"


def test_a_flipped_byte_in_a_marshal_file_is_caught(tmp_path, caplog):
    value = {"words": {"headache": 5, "infusion": 3}}
    Cache(tmp_path, "k").values("spelling", lambda: value)
    data = bytearray((tmp_path / "spelling.marshal").read_bytes())
    at = data.index(b"headache")
    data[at] ^= 0x01  # "headache" -> "ieadache": still loads, as other words
    (tmp_path / "spelling.marshal").write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="bot.cache"):
        assert Cache(tmp_path, "k").values("spelling", lambda: value) == value
    assert "damaged" in caplog.text


def test_a_value_that_cannot_be_saved_leaves_no_file_behind(tmp_path, caplog):
    import datetime

    with caplog.at_level(logging.WARNING, logger="bot.cache"):
        assert Cache(tmp_path, "k").values("dates", lambda: {"when": datetime.date(2026, 1, 1)})
    assert "cannot save" in caplog.text and list(tmp_path.iterdir()) == []
