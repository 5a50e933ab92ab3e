"""`train --resume` reads checkpoints with torch.load(weights_only=True): a checkpoint.pt that would run code is
refused with one line, before anything is built, and its payload never runs."""

import os

import numpy as np
import pytest
import torch

from stylemixer import cli
from stylemixer.core.errors import ModelFileError
from stylemixer.training.loop import TrainConfig, Trainer, read_checkpoint

TINY_ARGS = [
    "--kimg",
    "0.004",
    "--batch",
    "4",
    "--resolution",
    "16",
    "--channels",
    "16,16,8",
    "--w-dim",
    "16",
    "--pool-size",
    "8",
]
TINY = dict(resolution=16, channels=(16, 16, 8), z_dim=16, w_dim=16, mapping_layers=2, batch=4, pool_size=8)


@pytest.fixture(autouse=True)
def fast_pool(monkeypatch):
    monkeypatch.setattr(
        "stylemixer.training.loop.procedural_pool",
        lambda n, seed, cache_dir=None: np.random.RandomState(seed).randint(0, 256, (n, 16, 16, 3), dtype=np.uint8),
    )


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def evil_checkpoint(path, marker):
    torch.save({"config": {}, "G": {"x": Payload(marker)}, "step": 1}, path)
    return path


def test_the_payload_is_live(tmp_path):
    marker = tmp_path / "ran"
    torch.load(evil_checkpoint(tmp_path / "c.pt", marker), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("auto", [False, True])
def test_resume_from_a_checkpoint_that_runs_code_is_refused(tmp_path, capsys, auto):
    marker, run = tmp_path / "ran", tmp_path / "run"
    if auto:
        run.mkdir()
        evil_checkpoint(run / "checkpoint.pt", marker)
    path = evil_checkpoint(tmp_path / "checkpoint.pt", marker)
    rc = cli.main(["train", "--out", str(run), "--resume", "auto" if auto else str(path), *TINY_ARGS])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "more than tensors and plain data" in err[0] and "system" in err[0] and "ran nothing" in err[0]
    assert not marker.exists()
    assert not list(run.glob("samples_*")) if run.exists() else True  # nothing was trained


@pytest.mark.parametrize("bad", ["truncated", "not-a-dict", "missing-key", "garbage"])
def test_broken_checkpoints_give_one_line(tmp_path, bad):
    t = Trainer(TrainConfig(out=str(tmp_path / "run"), kimg=0.004, **TINY), log=lambda *a: None)
    good = t.save_checkpoint()
    path = tmp_path / "c.pt"
    if bad == "truncated":
        path.write_bytes(good.read_bytes()[:2000])
    elif bad == "not-a-dict":
        torch.save([1, 2], path)
    elif bad == "missing-key":
        sd = torch.load(good, weights_only=True)
        del sd["opt_G"]
        torch.save(sd, path)
    else:
        path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelFileError):
        read_checkpoint(path)


def test_a_checkpoint_of_another_configuration_is_refused_cleanly(tmp_path):
    a = Trainer(TrainConfig(out=str(tmp_path / "a"), kimg=0.004, **TINY), log=lambda *a: None)
    path = a.save_checkpoint()
    other = dict(TINY, channels=(8, 8, 8))
    b = Trainer(TrainConfig(out=str(tmp_path / "b"), kimg=0.004, **other), log=lambda *a: None)
    with pytest.raises(ModelFileError, match="does not fit this run's configuration"):
        b.load_checkpoint(path)


def test_a_real_checkpoint_holds_only_tensors_and_plain_data(tmp_path):
    t = Trainer(TrainConfig(out=str(tmp_path / "run"), kimg=0.004, **TINY), log=lambda *a: None)
    sd = read_checkpoint(t.save_checkpoint())  # weights_only=True accepts it
    assert sd["step"] == 0 and isinstance(sd["torch_rng"], torch.Tensor)
