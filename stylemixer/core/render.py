"""The renderer: owns one generator on one device and turns requests into images and statistics.

Synchronous and Qt-free: the GUI's worker thread, the CLI, the benchmark and the tests all call `render()`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .images import to_uint8
from .mixing import Recipe, mix_ws
from .latents import ws_from_seed
from .stats import Capture, LayerStats

SOURCES = ("mix", "a", "b")


@dataclass(frozen=True)
class RenderRequest:
    """An immutable snapshot of what to draw. `id` orders requests; the newest wins."""
    recipe: Recipe
    stats: bool = False                 # capture per-channel statistics of every AdaIN layer
    feature_layer: int | None = None    # also return this layer's feature maps after AdaIN
    feature_source: str = "mix"         # ... of the mix, A or B
    id: int = 0


@dataclass
class RenderResult:
    request: RenderRequest
    mix: np.ndarray                     # uint8 [H, W, C]
    a: np.ndarray                       # uint8 [H, W, C], pure A
    b: np.ndarray                       # uint8 [H, W, C], pure B
    stats: dict | None = None           # {"mix"|"a"|"b": {w index: LayerStats}}
    features: np.ndarray | None = None  # float32 [C, H, W]
    ms: float = 0.0
    device: str = "cpu"
    info: dict = field(default_factory=dict)


class Renderer:
    def __init__(self, G, device="cpu"):
        self.device = torch.device(device)
        self.G = G.eval().requires_grad_(False).to(self.device)

    @property
    def num_ws(self) -> int:
        return self.G.num_ws

    def to(self, device):
        """Move the model to another device (the GUI's device menu)."""
        self.device = torch.device(device)
        self.G = self.G.to(self.device)
        return self

    def ws(self, recipe: Recipe):
        """(ws_a, ws_b, ws_mix), each [1, num_ws, w_dim] on the device."""
        recipe.check_model(self.num_ws)
        ws_a = ws_from_seed(self.G, recipe.seed_a, recipe.psi, recipe.cutoff, self.device)
        ws_b = ws_from_seed(self.G, recipe.seed_b, recipe.psi, recipe.cutoff, self.device)
        return ws_a, ws_b, mix_ws(ws_a, ws_b, recipe.weights)

    @torch.inference_mode()
    def synthesize(self, recipe: Recipe, capture: Capture | None = None) -> torch.Tensor:
        """[3, C, H, W] float images of (mix, A, B), computed as one batch."""
        ws_a, ws_b, ws_mix = self.ws(recipe)
        ws = torch.cat([ws_mix, ws_a, ws_b])  # [3, num_ws, w_dim]
        return self.G.synthesis(ws, noise_mode=recipe.noise_mode, noise_seed=recipe.noise_seed, capture=capture)

    def render(self, req: RenderRequest | Recipe) -> RenderResult:
        if isinstance(req, Recipe):
            req = RenderRequest(req)
        t0 = time.perf_counter()
        want_features = req.feature_layer is not None
        capture = Capture(stats=req.stats, feature_layer=req.feature_layer) if (req.stats or want_features) else None
        img = self.synthesize(req.recipe, capture)
        u8 = to_uint8(img, self.G.cfg.crop)
        stats = features = None
        if capture is not None:
            if req.stats:
                per_layer = capture.result()
                stats = {src: {k: s.take(i) for k, s in per_layer.items()} for i, src in enumerate(SOURCES)}
            if want_features:
                features = capture.features[SOURCES.index(req.feature_source)].float().cpu().numpy()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        ms = (time.perf_counter() - t0) * 1000
        return RenderResult(req, u8[0], u8[1], u8[2], stats, features, ms, str(self.device))
