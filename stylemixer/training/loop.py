"""The training loop: StyleGAN (v1 generator) with StyleGAN2-era training choices.

- non-saturating logistic loss; lazy R1 on reals every `r1_interval` steps (with the Adam correction for lazy
  regularisation, as in StyleGAN2)
- style-mixing regularisation: with probability `mixing_prob` a sample's ws rows < k come from w1 and the rest
  from w2, k uniform in 1..num_ws-1; this is what makes coarse / middle / fine layers specialise
- `mapping_net.w_avg` (the truncation centre) tracked as an EMA of the batch mean of w, beta 0.995
- an EMA copy of G (half-life `ema_kimg` thousand images, ramped up early) is what gets sampled and exported
- Adam betas (0, 0.99); resumable checkpoints; sample grids at intervals; budget by minutes and/or kimg
"""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
import re
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stylemixer.core.checkpoints.safe_pickle import escape
from stylemixer.core.devices import pick_device
from stylemixer.core.errors import ModelFileError
from stylemixer.core.families.stylegan1.network import Generator, GeneratorConfig, count_parameters, init_for_training
from stylemixer.core.images import to_uint8
from stylemixer.core.latents import zs_from_seeds
from stylemixer.data.faces import grid as make_grid
from stylemixer.training.data import ImagePool, folder_pool, procedural_pool
from stylemixer.training.discriminator import Discriminator
from stylemixer.training.metrics import pictures


@dataclass
class TrainConfig:
    data: str = "procedural"  # "procedural" or a folder of images
    out: str = "runs/builtin"  # run directory: checkpoints, samples, log
    resolution: int = 64
    channels: tuple = (128, 128, 64, 32, 16)  # G widths at 4..R px; D mirrors them
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 8
    batch: int = 32
    lr: float = 0.0015
    r1_gamma: float = 0.1
    r1_interval: int = 16
    mixing_prob: float = 0.9
    w_avg_beta: float = 0.995
    ema_kimg: float = 10.0  # EMA half-life in thousands of images
    ema_rampup: float | None = 0.05  # half-life <= this fraction of images seen so far
    minutes: float | None = None  # total training-time budget (across resumes)
    kimg: float | None = None  # total images budget, in thousands
    pool_size: int = 30000  # procedural images kept in memory
    seed: int = 0
    device: str = "auto"
    threads: int = 1  # see commands.py: 2 threads collapse under CPU contention
    sample_every_min: float = 5.0
    checkpoint_every_min: float = 5.0
    mbstd_group: int = 8  # samples per minibatch-stddev group
    mbstd_channels: int = 4  # separate std features (see discriminator.MinibatchStd)
    blur_sigma: float = 0.0  # D sees reals and fakes blurred by this (px), fading to 0 ...
    blur_start_kimg: float = 0.0  # ... linearly from here ...
    blur_fade_kimg: float = 0.0  # ... over this many thousand images (StyleGAN3's blur_init_sigma)

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(
            z_dim=self.z_dim,
            w_dim=self.w_dim,
            mapping_layers=self.mapping_layers,
            mapping_fmaps=self.w_dim,
            resolution=self.resolution,
            channels=tuple(self.channels),
            truncation_psi=1.0,
            truncation_cutoff=None,
        )


# ------------------------------------------------------------------------------------------- pieces


def mixed_ws(G: Generator, z1, z2, mixing_prob: float, track_w_avg: float | None = None):
    """z1, z2 [N, z_dim] -> ws [N, num_ws, w_dim] with per-sample style mixing.

    Sample i (with probability mixing_prob) takes rows < k_i from w1 and rows >= k_i from w2.
    track_w_avg: when given (the beta), w_avg is moved towards the batch mean of w1.
    """
    n, num_ws = z1.shape[0], G.num_ws
    w1 = G.mapping_net(z1)  # [N, w_dim]
    if track_w_avg is not None:
        with torch.no_grad():
            G.mapping_net.w_avg.copy_(w1.detach().mean(0).lerp(G.mapping_net.w_avg, track_w_avg))
    ws = w1[:, None, :].expand(n, num_ws, -1)  # [N, num_ws, w_dim]
    if mixing_prob > 0:
        w2 = G.mapping_net(z2)
        k = torch.randint(1, num_ws, (n,), device=z1.device)  # crossover index
        use = torch.rand(n, device=z1.device) < mixing_prob
        rows = torch.arange(num_ws, device=z1.device)[None, :]  # [1, num_ws]
        from_w2 = (rows >= k[:, None]) & use[:, None]  # [N, num_ws]
        ws = torch.where(from_w2[:, :, None], w2[:, None, :], ws)
    return ws


def blur(x, sigma: float):
    """Separable Gaussian blur of [N, C, H, W]; a no-op for sigma <= 0. Used on D's input early in training so that
    D judges layout and colour before fine texture (the role progressive growing played in StyleGAN v1)."""
    if sigma <= 0:
        return x
    r = int(math.ceil(2 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-t.square() / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@torch.no_grad()
def update_ema(G_ema, G, beta: float):
    for pe, p in zip(G_ema.parameters(), G.parameters()):
        pe.lerp_(p.detach(), 1 - beta)
    for be, b in zip(G_ema.buffers(), G.buffers()):
        be.copy_(b)  # w_avg and the constant noise follow G exactly


@torch.no_grad()
def render_samples(G, zs: torch.Tensor, psi: float = 1.0) -> np.ndarray:
    """zs [N, z_dim] -> uint8 [N, R, R, 3] with const noise (what the app shows, rounded as the app rounds)."""
    return pictures(G, G.mapping(zs, truncation_psi=psi))


def sample_zs(n: int, z_dim: int) -> torch.Tensor:
    """The z of seeds 0 .. n-1, by the app's seed convention."""
    return zs_from_seeds(range(n), z_dim)


# --------------------------------------------------------------------------------------------- checkpoints

CHECKPOINT_KEYS = {
    "config": dict,
    "G": dict,
    "D": dict,
    "G_ema": dict,
    "opt_G": dict,
    "opt_D": dict,
    "step": int,
    "nimg": int,
    "train_seconds": float,
    "pool": dict,
    "torch_rng": torch.Tensor,
}


def read_checkpoint(path, map_location="cpu") -> dict:
    """A training checkpoint, read with torch.load(weights_only=True): tensors and plain data only (dicts,
    lists, tuples, numbers, strings), so a checkpoint.pt from anywhere cannot run code. Anything else, a
    damaged file or missing entries: one ModelFileError line."""
    path = os.fspath(path)
    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise ModelFileError(
            f"{path}: no such checkpoint file" if not os.path.exists(path) else f"{name} is not a regular file"
        )
    try:
        sd = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:  # what weights_only refuses: globals outside torch's tensor allow-list
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f" (it refers to {escape(found.group(1), 120)})" if found else ""
        raise ModelFileError(
            f"{name} holds more than tensors and plain data{what}; StyleMixer resumes only "
            f"from checkpoints it wrote, and ran nothing from this one"
        ) from None
    except (
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        zipfile.BadZipFile,
        MemoryError,
    ) as e:
        raise ModelFileError(
            f"{name} is not a readable training checkpoint "
            f"({type(e).__name__}: {escape(str(e).splitlines()[0] if str(e) else '', 160)})"
        ) from None
    if not isinstance(sd, dict):
        raise ModelFileError(f"{name} is not a StyleMixer training checkpoint (its top level is not a dict)")
    for key, kind in CHECKPOINT_KEYS.items():
        value = sd.get(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = sd[key] = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ModelFileError(
                f"{name} is not a StyleMixer training checkpoint (its '{key}' entry is "
                f"{'missing' if value is None else 'malformed'})"
            )
    return sd


# --------------------------------------------------------------------------------------------- trainer


class Trainer:
    def __init__(self, cfg: TrainConfig, log=print):
        self.cfg, self.log = cfg, log
        self.dev = pick_device(cfg.device)
        if self.dev.type == "cpu":
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)

        gcfg = cfg.generator_config()
        self.G = init_for_training(Generator(gcfg), cfg.seed).to(self.dev)
        self.D = Discriminator(
            cfg.channels, cfg.resolution, mbstd_group=cfg.mbstd_group, mbstd_channels=cfg.mbstd_channels
        ).to(self.dev)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        # lazy regularisation: D's Adam sees R1 only every r1_interval steps, so lr and betas are rescaled
        c = cfg.r1_interval / (cfg.r1_interval + 1)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(0.0, 0.99), eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.lr * c, betas=(0.0, 0.99**c), eps=1e-8)
        self.step = 0
        self.nimg = 0
        self.train_seconds = 0.0
        self.fixed_z = sample_zs(32, cfg.z_dim).to(self.dev)

        if cfg.data == "procedural":
            images = procedural_pool(cfg.pool_size, cfg.seed, cache_dir=Path("runs") / "cache")
        else:
            images = folder_pool(cfg.data, cfg.resolution)
        self.pool = ImagePool(images, seed=cfg.seed)
        self.log(
            f"data: {cfg.data}, {len(self.pool)} images; G {count_parameters(self.G) / 1e6:.2f} M params, "
            f"D {count_parameters(self.D) / 1e6:.2f} M params; device {self.dev}"
        )

    # ---------------------------------------------------------------- one step
    def blur_sigma(self) -> float:
        cfg = self.cfg
        if cfg.blur_sigma <= 0:
            return 0.0
        if cfg.blur_fade_kimg <= 0:
            return cfg.blur_sigma if self.nimg >= cfg.blur_start_kimg * 1000 else 0.0
        t = (self.nimg - cfg.blur_start_kimg * 1000) / (cfg.blur_fade_kimg * 1000)
        return cfg.blur_sigma * (1 - t) if 0 <= t < 1 else 0.0

    def run_D(self, img, sigma):
        return self.D(blur(img, sigma))

    def train_step(self):
        cfg, G, D, n = self.cfg, self.G, self.D, self.cfg.batch
        z_dim = cfg.z_dim

        # D: logistic loss on reals and fakes
        real = self.pool.batch(n, self.dev)  # [N, 3, R, R]
        with torch.no_grad():
            ws = mixed_ws(
                G, torch.randn(n, z_dim, device=self.dev), torch.randn(n, z_dim, device=self.dev), cfg.mixing_prob
            )
            fake = G.synthesis(ws, noise_mode="random")
        sigma = self.blur_sigma()
        d_real, d_fake = self.run_D(real, sigma), self.run_D(fake, sigma)
        loss_D = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        self.opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        self.opt_D.step()

        # D: lazy R1 on reals
        r1 = None
        if self.step % cfg.r1_interval == 0 and cfg.r1_gamma > 0:
            real_r = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.run_D(real_r, sigma).sum(), real_r, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            self.opt_D.zero_grad(set_to_none=True)
            (r1 * (cfg.r1_gamma / 2) * cfg.r1_interval).backward()
            self.opt_D.step()

        # G: non-saturating loss, with style mixing and w_avg tracking
        ws = mixed_ws(
            G,
            torch.randn(n, z_dim, device=self.dev),
            torch.randn(n, z_dim, device=self.dev),
            cfg.mixing_prob,
            track_w_avg=cfg.w_avg_beta,
        )
        D.requires_grad_(False)
        loss_G = F.softplus(-self.run_D(G.synthesis(ws, noise_mode="random"), sigma)).mean()
        D.requires_grad_(True)
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        self.opt_G.step()

        # G EMA with ramp-up: early on the half-life is short so samples are useful from the first minutes
        self.nimg += n
        self.step += 1
        ema_nimg = cfg.ema_kimg * 1000
        if cfg.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.nimg * cfg.ema_rampup)
        update_ema(self.G_ema, G, 0.5 ** (n / max(ema_nimg, 1e-8)))
        return float(loss_D.detach()), float(loss_G.detach()), (float(r1.detach()) if r1 is not None else None)

    # ---------------------------------------------------------------- outputs
    def save_samples(self):
        G = self.G_ema
        imgs = render_samples(G, self.fixed_z)
        make_grid(imgs, 8).save(self.out / f"samples_{self.nimg // 1000:06d}k.png")
        # style-mixing grid: row i = seed A_i, column j = seed B_j; cell = coarse (rows < 4) from B
        a, b = self.fixed_z[:4], self.fixed_z[4:10]
        with torch.no_grad():
            wa, wb = G.mapping(a), G.mapping(b)
            cells = []
            for i in range(len(a)):
                for j in range(len(b)):
                    ws = wa[i : i + 1].clone()
                    ws[:, :4] = wb[j : j + 1, :4]
                    cells.append(G.synthesis(ws, noise_mode="const"))
        make_grid(to_uint8(torch.cat(cells)), len(b)).save(self.out / "mixing_latest.png")

    def state_dict(self):
        return {
            "config": asdict(self.cfg),
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "step": self.step,
            "nimg": self.nimg,
            "train_seconds": self.train_seconds,
            "pool": self.pool.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }

    def save_checkpoint(self):
        path = self.out / "checkpoint.pt"
        tmp = path.with_suffix(".tmp")
        torch.save(self.state_dict(), tmp)
        os.replace(tmp, path)  # atomic: a kill mid-save never leaves a broken checkpoint
        return path

    def load_checkpoint(self, path, sd=None):
        """Resume from checkpoint.pt (or from `sd`, what read_checkpoint(path) returned)."""
        sd = read_checkpoint(path, self.dev) if sd is None else sd
        name = os.path.basename(os.fspath(path))
        try:
            for key, mod in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
                mod.load_state_dict(sd[key])
            self.opt_G.load_state_dict(sd["opt_G"])
            self.opt_D.load_state_dict(sd["opt_D"])
            self.pool.load_state_dict(sd["pool"])
            torch.set_rng_state(sd["torch_rng"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as e:
            raise ModelFileError(
                f"{name} does not fit this run's configuration (--resolution, --channels, "
                f"--w-dim must match the run that wrote it): "
                f"{escape(str(e).splitlines()[0] if str(e) else type(e).__name__, 200)}"
            ) from None
        self.step, self.nimg, self.train_seconds = sd["step"], sd["nimg"], sd["train_seconds"]
        if sd.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(sd["cuda_rng"])
        self.log(
            f"resumed from {path}: step {self.step}, {self.nimg / 1000:.1f} kimg, "
            f"{self.train_seconds / 60:.1f} min trained"
        )

    # ---------------------------------------------------------------- the loop
    def done(self) -> bool:
        cfg = self.cfg
        if cfg.kimg is not None and self.nimg >= cfg.kimg * 1000:
            return True
        return bool(cfg.minutes is not None and self.train_seconds >= cfg.minutes * 60)

    def progress(self) -> float:
        """Fraction of the budget used (the larger of the two limits' fractions)."""
        f = []
        if self.cfg.kimg:
            f.append(self.nimg / (self.cfg.kimg * 1000))
        if self.cfg.minutes:
            f.append(self.train_seconds / (self.cfg.minutes * 60))
        return max(f) if f else 0.0

    def run(self):
        cfg = self.cfg
        if cfg.minutes is None and cfg.kimg is None:
            raise ValueError("give a budget: --minutes and/or --kimg")
        bar = ProgressBar(self)
        last_sample = last_ckpt = time.time()
        self.save_samples()
        t_prev = time.time()
        losses = []
        while not self.done():
            losses.append(self.train_step())
            now = time.time()
            self.train_seconds += now - t_prev
            t_prev = now
            bar.update(losses)
            if now - last_sample >= cfg.sample_every_min * 60:
                self.save_samples()
                last_sample = now
            if now - last_ckpt >= cfg.checkpoint_every_min * 60:
                self.save_checkpoint()
                last_ckpt = now
            t_prev = time.time()  # sampling and checkpointing do not count as training time
        bar.finish()
        self.save_samples()
        self.save_checkpoint()
        return self


class ProgressBar:
    """One status line: kimg, images/s (recent window), elapsed, ETA, losses. Redrawn in place on a terminal,
    one line every 30 s when logging to a file."""

    def __init__(self, trainer: Trainer, every_s: float = 30.0):
        self.t, self.tty = trainer, sys.stderr.isatty()
        self.every_s = every_s if not self.tty else 0.5
        self.last = 0.0
        self.window = []  # (time, nimg)

    def update(self, losses):
        now = time.time()
        self.window.append((now, self.t.nimg))
        self.window = [w for w in self.window if now - w[0] <= 60] or self.window[-1:]
        if now - self.last < self.every_s:
            return
        self.last = now
        (t0, n0), (t1, n1) = self.window[0], self.window[-1]
        ips = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        p = self.t.progress()
        cfg = self.t.cfg
        if cfg.minutes:
            eta = cfg.minutes * 60 - self.t.train_seconds
        else:
            eta = float("inf")
        if cfg.kimg and ips > 0:
            eta = min(eta, (cfg.kimg * 1000 - self.t.nimg) / ips)
        recent = losses[-50:]
        ld = np.mean([l[0] for l in recent])
        lg = np.mean([l[1] for l in recent])
        r1s = [l[2] for l in recent if l[2] is not None]
        width = 24
        filled = int(width * min(p, 1))
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {100 * p:5.1f}%  {self.t.nimg / 1000:7.1f} kimg  "
            f"{ips:5.1f} img/s  elapsed {_hms(self.t.train_seconds)}  ETA {_hms(eta)}  "
            f"D {ld:.3f}  G {lg:.3f}" + (f"  R1 {r1s[-1]:.3f}" if r1s else "")
        )
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self):
        if self.tty:
            print(file=sys.stderr)


def _hms(s: float) -> str:
    if not math.isfinite(s):
        return "--:--"
    s = max(0, int(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def export_ema(trainer: Trainer, path, command: str | None = None):
    """Save the EMA generator in the app's native format with training facts in the metadata."""
    from stylemixer.core.checkpoints.native import save_model

    meta = {
        "source": "stylemixer train",
        "data": trainer.cfg.data,
        "images_seen": str(trainer.nimg),
        "train_minutes": f"{trainer.train_seconds / 60:.1f}",
        "steps": str(trainer.step),
        "train_config": json.dumps(asdict(trainer.cfg)),
    }
    if command:
        meta["command"] = command
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_model(trainer.G_ema.cpu(), str(path), extra_metadata=meta)
    trainer.G_ema.to(trainer.dev)
    return path
