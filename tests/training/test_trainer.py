"""Discriminator shapes, style-mixing rows, w_avg tracking, a 2-step training smoke test, resume and export."""

import argparse

import numpy as np
import pytest
import torch

from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, init_for_training
from stylemixer.core.images import to_uint8
from stylemixer.core.latents import z_from_seed
from stylemixer.training import data as tdata
from stylemixer.training.commands import register
from stylemixer.training.discriminator import Discriminator, MinibatchStd
from stylemixer.training.loop import TrainConfig, Trainer, mixed_ws, render_samples, sample_zs

TINY = dict(resolution=16, channels=(16, 16, 8), z_dim=16, w_dim=16, mapping_layers=2, batch=4, pool_size=8)


@pytest.fixture(autouse=True)
def fast_pool(monkeypatch):
    """Procedural faces are 64 px; the tiny trainer gets random 16 px images without touching runs/cache."""
    monkeypatch.setattr(
        "stylemixer.training.loop.procedural_pool",
        lambda n, seed, cache_dir=None: np.random.RandomState(seed).randint(0, 256, (n, 16, 16, 3), dtype=np.uint8),
    )


@pytest.mark.parametrize("res,channels", [(16, (16, 16, 8)), (64, (32, 32, 16, 8, 8))])
def test_discriminator_shapes(res, channels):
    D = Discriminator(channels, res)
    assert D(torch.randn(8, 3, res, res)).shape == (8,)
    assert D(torch.randn(6, 3, res, res)).shape == (6,)  # batch not divisible by the group size


def test_minibatch_std_adds_one_map_and_sees_variety():
    layer = MinibatchStd(4, 1)
    same = torch.randn(1, 5, 4, 4).repeat(8, 1, 1, 1)
    assert layer(same).shape == (8, 6, 4, 4)
    assert layer(same)[:, -1].max() < 1e-3  # identical samples -> ~zero stddev feature
    assert layer(torch.randn(8, 5, 4, 4))[:, -1].min() > 0.3


def test_mixed_ws_rows_come_from_w1_then_w2():
    G = init_for_training(
        Generator(
            GeneratorConfig(z_dim=8, w_dim=8, mapping_layers=2, mapping_fmaps=8, resolution=16, channels=(8, 8, 8))
        ),
        0,
    )
    z1, z2 = torch.randn(64, 8), torch.randn(64, 8)
    w1, w2 = G.mapping_net(z1), G.mapping_net(z2)
    ws = mixed_ws(G, z1, z2, mixing_prob=1.0)
    for i in range(64):
        from1 = torch.isclose(ws[i], w1[i]).all(dim=1)  # [num_ws]
        k = int(from1.sum())
        assert 1 <= k < G.num_ws and from1[:k].all()  # a prefix from w1 ...
        assert torch.allclose(ws[i, k:], w2[i].expand(G.num_ws - k, -1))  # ... the rest from w2
    assert torch.allclose(mixed_ws(G, z1, z2, mixing_prob=0.0), w1[:, None].expand(-1, G.num_ws, -1))


def test_w_avg_tracks_batch_mean_with_beta():
    G = init_for_training(
        Generator(
            GeneratorConfig(z_dim=8, w_dim=8, mapping_layers=2, mapping_fmaps=8, resolution=16, channels=(8, 8, 8))
        ),
        0,
    )
    z = torch.randn(16, 8)
    mixed_ws(G, z, z, 0.0, track_w_avg=0.995)
    assert torch.allclose(G.mapping_net.w_avg, 0.005 * G.mapping_net(z).mean(0), atol=1e-6)


def test_training_samples_are_the_pictures_the_app_shows():
    G = init_for_training(
        Generator(
            GeneratorConfig(z_dim=8, w_dim=8, mapping_layers=2, mapping_fmaps=8, resolution=16, channels=(8, 8, 8))
        ),
        0,
    )
    zs = sample_zs(3, 8)
    assert torch.equal(zs, torch.from_numpy(np.concatenate([z_from_seed(s, 8) for s in range(3)])))
    with torch.no_grad():
        img = G.synthesis(G.mapping(zs), noise_mode="const")
    assert np.array_equal(render_samples(G, zs), to_uint8(img))  # one rounding rule for app and training


@pytest.mark.slow
def test_two_training_steps_change_weights_and_write_outputs(tmp_path):
    t = Trainer(TrainConfig(out=str(tmp_path / "run"), kimg=0.008, **TINY), log=lambda *a: None)
    before = {k: v.clone() for k, v in t.G.state_dict().items()}
    ema_before = t.G_ema.mapping_net.fcs[0].weight.clone()
    t.run()
    assert t.step == 2 and t.nimg == 8
    changed = [k for k, v in t.G.state_dict().items() if not torch.equal(v, before[k])]
    assert any("synthesis" in k for k in changed) and any("mapping" in k for k in changed)
    assert "mapping_net.w_avg" in changed
    assert not torch.equal(t.G_ema.mapping_net.fcs[0].weight, ema_before)
    assert torch.equal(t.G_ema.mapping_net.w_avg, t.G.mapping_net.w_avg)
    assert (tmp_path / "run" / "checkpoint.pt").exists()
    assert list((tmp_path / "run").glob("samples_*.png")) and (tmp_path / "run" / "mixing_latest.png").exists()


@pytest.mark.slow
def test_resume_continues_the_same_run(tmp_path):
    cfg = TrainConfig(out=str(tmp_path / "run"), kimg=0.008, **TINY)
    t1 = Trainer(cfg, log=lambda *a: None).run()
    cfg2 = TrainConfig(out=str(tmp_path / "run"), kimg=0.016, **TINY)
    t2 = Trainer(cfg2, log=lambda *a: None)
    t2.load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert t2.step == 2 and torch.equal(t2.G_ema.mapping_net.w_avg, t1.G_ema.mapping_net.w_avg)
    t2.run()
    assert t2.step == 4 and t2.nimg == 16


def test_train_command_exports_a_loadable_model(tmp_path):
    from stylemixer.core.checkpoints.native import load_model

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "m.safetensors"
    args = parser.parse_args(
        [
            "train",
            "--out",
            str(tmp_path / "run"),
            "--kimg",
            "0.008",
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
            "--export",
            str(out),
        ]
    )
    assert args.func(args) == 0
    G = load_model(out)
    assert G.cfg.resolution == 16 and G.num_ws == 6


def test_train_command_needs_a_budget(tmp_path):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "--out", str(tmp_path / "run")])
    assert args.func(args) == 2


def test_dataset_preview_command(tmp_path):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "grid.png"
    args = parser.parse_args(["dataset", "preview", "-o", str(out), "-n", "6", "--cols", "3", "--scale", "1"])
    assert args.func(args) == 0
    from PIL import Image

    assert Image.open(out).size == (3 * 65 + 1, 2 * 65 + 1)


def test_folder_data_is_resized_and_centre_cropped(tmp_path):
    from PIL import Image

    img = np.zeros((40, 80, 3), np.uint8)
    img[:, 20:60] = 255  # a white centre square in a wide black image
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(img).save(tmp_path / "b.jpg")
    pool = tdata.folder_pool(tmp_path, 16)
    assert pool.shape == (2, 16, 16, 3)
    assert pool[0].mean() > 240  # the crop kept only the white centre
    with pytest.raises(FileNotFoundError):
        tdata.folder_pool(tmp_path / "nothing", 16)


def test_blur_schedule_and_filter(tmp_path):
    from stylemixer.training.loop import blur

    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(blur(x, 0.0), x)
    y = blur(x, 1.5)
    assert y.shape == x.shape and y.std() < x.std()  # low-passed
    assert torch.allclose(blur(torch.ones(1, 3, 16, 16), 2.0), torch.ones(1, 3, 16, 16), atol=1e-5)
    t = Trainer(
        TrainConfig(
            out=str(tmp_path / "run"), kimg=0.008, blur_sigma=2.0, blur_start_kimg=0.004, blur_fade_kimg=0.008, **TINY
        ),
        log=lambda *a: None,
    )
    assert t.blur_sigma() == 0.0  # before the start
    t.nimg = 8
    assert abs(t.blur_sigma() - 1.0) < 1e-9  # half way through the fade
    t.nimg = 12
    assert t.blur_sigma() == 0.0
    t.nimg = 0
    t.run()  # trains with the blur path active
