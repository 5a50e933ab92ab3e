"""Writes pickles in the exact layout of NVIDIA's official StyleGAN (v1) TensorFlow files, with random values.

The official file is the pickled tuple (G, D, Gs) of `dnnlib.tflib.network.Network` objects, each pickled as
"new instance of that class, then BUILD with the dict from Network.__getstate__" (keys version, name,
static_kwargs, components, build_module_src, build_func_name, variables). To produce the same bytes without
dnnlib, a stand-in class with that module path and __getstate__ is put into sys.modules only while pickling.
Arrays can be written with the NumPy 1.x global names of the era (numpy.core.multiarray) or NumPy 2.x ones.

Variable names and TF shapes follow the fact sheet's Appendix 1 (G_style / G_mapping / G_synthesis).
"""

from __future__ import annotations

import contextlib
import math
import pickle
import sys
import types

import numpy as np

NUMPY1 = "numpy.core.multiarray"
NUMPY2 = "numpy._core.multiarray"


@contextlib.contextmanager
def fake_dnnlib():
    """A temporary dnnlib.tflib.network.Network whose pickled form matches the original class."""
    names = ("dnnlib", "dnnlib.tflib", "dnnlib.tflib.network")
    mods = {n: types.ModuleType(n) for n in names}

    class Network:
        def __init__(self, state):
            self._state = state

        def __getstate__(self):
            return self._state

    Network.__module__ = "dnnlib.tflib.network"
    Network.__qualname__ = "Network"
    mods["dnnlib.tflib.network"].Network = Network
    saved = {n: sys.modules.get(n) for n in names}
    sys.modules.update(mods)
    try:
        yield Network
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


@contextlib.contextmanager
def _numpy1_names():
    """While pickling, make arrays and scalars refer to numpy.core.multiarray, as NumPy 1.x wrote them."""
    mod = types.ModuleType(NUMPY1)

    def _reconstruct(*args):  # pragma: no cover - only its name is pickled
        raise AssertionError

    def scalar(*args):  # pragma: no cover
        raise AssertionError

    for f in (_reconstruct, scalar):
        f.__module__, f.__qualname__ = NUMPY1, f.__name__
        setattr(mod, f.__name__, f)
    saved = sys.modules.get(NUMPY1)
    sys.modules[NUMPY1] = mod
    try:
        yield mod
    finally:
        if saved is None:
            sys.modules.pop(NUMPY1, None)
        else:
            sys.modules[NUMPY1] = saved


class _Pickler(pickle.Pickler):
    def __init__(self, f, protocol, numpy_mod=None):
        super().__init__(f, protocol=protocol)
        self.numpy_mod = numpy_mod

    def reducer_override(self, obj):
        if self.numpy_mod is None:
            return NotImplemented
        if type(obj) is np.ndarray:
            _, args, state = obj.__reduce__()
            return self.numpy_mod._reconstruct, args, state
        if isinstance(obj, np.generic):
            _, args = obj.__reduce__()
            return self.numpy_mod.scalar, args
        return NotImplemented


def dump(obj_factory, path, protocol=4, numpy_names=NUMPY1):
    """Pickle obj_factory(Network) to `path` with the stand-in Network class and the chosen NumPy names."""
    with fake_dnnlib() as Network, contextlib.ExitStack() as stack:
        numpy_mod = stack.enter_context(_numpy1_names()) if numpy_names == NUMPY1 else None
        obj = obj_factory(Network)
        with open(path, "wb") as f:
            _Pickler(f, protocol, numpy_mod).dump(obj)
    return path


def nf(stage, fmap_base=8192, fmap_decay=1.0, fmap_max=512):
    return min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)


def fake_source(marker=None):
    """A stand-in for the embedded networks_stylegan.py (not NVIDIA's text). If anything ever executed it,
    it would create `marker`."""
    lines = ["# stand-in for training/networks_stylegan.py, written by StyleMixer's tests"]
    if marker is not None:
        lines += ["import pathlib", f"pathlib.Path({str(marker)!r}).write_text('build_module_src was executed')"]
    lines += [
        "def G_style(latents_in, labels_in, truncation_psi=0.7, truncation_cutoff=8, **kwargs): pass",
        "def G_mapping(latents_in, labels_in, mapping_lrmul=0.01, **kwargs): pass",
        "def G_synthesis(dlatents_in, fused_scale='auto', blur_filter=[1,2,1], **kwargs): pass",
        "def D_basic(images_in, labels_in, **kwargs): pass",
    ]
    return "\n".join(lines) + "\n"


def generator_variables(
    rng,
    resolution=1024,
    num_channels=3,
    latent_size=512,
    dlatent_size=512,
    mapping_layers=8,
    mapping_fmaps=512,
    fmap_base=8192,
    fmap_max=512,
):
    """(Gs own, G_mapping, G_synthesis) variables as ordered {name: float32 array} in TF layout, with values of
    the scales the trained networks have (raw mapping weights ~ N(0, 1/lrmul^2))."""
    f32 = np.float32

    def randn(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(f32)

    top = {"lod": f32(0.0), "dlatent_avg": randn(dlatent_size, scale=0.3)}
    mapping = {}
    for i in range(mapping_layers):
        fin = latent_size if i == 0 else mapping_fmaps
        fout = dlatent_size if i == mapping_layers - 1 else mapping_fmaps
        mapping[f"Dense{i}/weight"] = randn(fin, fout, scale=100.0)
        mapping[f"Dense{i}/bias"] = randn(fout, scale=10.0)
    res_log2 = int(math.log2(resolution))
    num_layers = 2 * res_log2 - 2
    syn = {"lod": f32(0.0)}
    for l in range(num_layers):
        r = 2 ** (l // 2 + 2)
        syn[f"noise{l}"] = randn(1, 1, r, r)

    def epilogue(scope, c):
        syn[f"{scope}/Noise/weight"] = randn(c, scale=0.3)
        syn[f"{scope}/bias"] = randn(c, scale=0.2)
        syn[f"{scope}/StyleMod/weight"] = randn(dlatent_size, 2 * c)
        syn[f"{scope}/StyleMod/bias"] = randn(2 * c, scale=0.2)

    def n(stage):
        return nf(stage, fmap_base, 1.0, fmap_max)

    syn["4x4/Const/const"] = randn(1, n(1), 4, 4)
    epilogue("4x4/Const", n(1))
    syn["4x4/Conv/weight"] = randn(3, 3, n(1), n(1))
    epilogue("4x4/Conv", n(1))
    for k in range(3, res_log2 + 1):
        r = 2**k
        syn[f"{r}x{r}/Conv0_up/weight"] = randn(3, 3, n(k - 2), n(k - 1))
        epilogue(f"{r}x{r}/Conv0_up", n(k - 1))
        syn[f"{r}x{r}/Conv1/weight"] = randn(3, 3, n(k - 1), n(k - 1))
        epilogue(f"{r}x{r}/Conv1", n(k - 1))
    for k in range(2, res_log2 + 1):
        lod = res_log2 - k
        syn[f"ToRGB_lod{lod}/weight"] = randn(1, 1, n(k - 1), num_channels)
        syn[f"ToRGB_lod{lod}/bias"] = randn(num_channels, scale=0.1)
    return top, mapping, syn


def discriminator_variables(rng, resolution, num_channels=3, fmap_base=8192, fmap_max=512):
    """D_basic's variables (only needed so the tuple is complete; their values do not matter)."""
    res_log2 = int(math.log2(resolution))

    def n(stage):
        return nf(stage, fmap_base, 1.0, fmap_max)

    def randn(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    v = {"lod": np.float32(0.0)}
    for k in range(res_log2, 2, -1):
        r = 2**k
        v[f"FromRGB_lod{res_log2 - k}/weight"] = randn(1, 1, num_channels, n(k - 1))
        v[f"FromRGB_lod{res_log2 - k}/bias"] = randn(n(k - 1))
        v[f"{r}x{r}/Conv0/weight"] = randn(3, 3, n(k - 1), n(k - 1))
        v[f"{r}x{r}/Conv0/bias"] = randn(n(k - 1))
        v[f"{r}x{r}/Conv1_down/weight"] = randn(3, 3, n(k - 1), n(k - 2))
        v[f"{r}x{r}/Conv1_down/bias"] = randn(n(k - 2))
    v[f"FromRGB_lod{res_log2 - 2}/weight"] = randn(1, 1, num_channels, n(1))
    v[f"FromRGB_lod{res_log2 - 2}/bias"] = randn(n(1))
    v["4x4/Conv/weight"] = randn(3, 3, n(1) + 1, n(1))
    v["4x4/Conv/bias"] = randn(n(1))
    v["4x4/Dense0/weight"] = randn(n(1) * 16, n(0))
    v["4x4/Dense0/bias"] = randn(n(0))
    v["4x4/Dense1/weight"] = randn(n(0), 1)
    v["4x4/Dense1/bias"] = randn(1)
    return v


class Spec:
    """One official-layout file: the values (to feed an independent reference) and how to pickle them."""

    def __init__(
        self,
        resolution=32,
        num_channels=3,
        latent_size=32,
        dlatent_size=32,
        mapping_layers=8,
        mapping_fmaps=32,
        fmap_base=128,
        fmap_max=32,
        seed=0,
        version=3,
        static_kwargs=None,
        g_mode="copy",
        d_fmap_max=None,
        marker=None,
        truncation=None,
    ):
        self.resolution = resolution
        self.version = version
        self.g_mode = g_mode  # "copy": G differs from Gs; "shared": G pickles Gs's arrays; "none": no G
        rng = np.random.default_rng(seed)
        sizes = dict(
            resolution=resolution,
            num_channels=num_channels,
            latent_size=latent_size,
            dlatent_size=dlatent_size,
            mapping_layers=mapping_layers,
            mapping_fmaps=mapping_fmaps,
            fmap_base=fmap_base,
            fmap_max=fmap_max,
        )
        self.gs = generator_variables(rng, **sizes)
        self.g = generator_variables(rng, **sizes) if g_mode == "copy" else self.gs
        self.d = discriminator_variables(rng, resolution, num_channels, fmap_base, d_fmap_max or fmap_max)
        kw = {"num_channels": num_channels, "resolution": resolution, "label_size": 0}
        if (fmap_base, fmap_max) != (8192, 512):
            kw.update(fmap_base=fmap_base, fmap_max=fmap_max)
        if (latent_size, dlatent_size, mapping_fmaps, mapping_layers) != (512, 512, 512, 8):
            kw.update(
                latent_size=latent_size,
                dlatent_size=dlatent_size,
                mapping_fmaps=mapping_fmaps,
                mapping_layers=mapping_layers,
            )
        kw.update(static_kwargs or {})
        self.kwargs = kw
        self.truncation = truncation or {}  # G_style-only kwargs, as Gs's static_kwargs would hold them
        self.source = fake_source(marker)
        self.num_layers = 2 * int(math.log2(resolution)) - 2

    # the raw values the reference needs
    @property
    def variables(self):
        top, mapping, syn = self.gs
        return {"Gs": top, "mapping": mapping, "synthesis": syn}

    def _state(self, name, func, kwargs, variables, components=None):
        return {
            "version": self.version,
            "name": name,
            "static_kwargs": dict(kwargs),
            "components": dict(components or {}),
            "build_module_src": self.source,
            "build_func_name": func,
            "variables": list(variables.items()),
        }

    def generator(self, Network, name, parts):
        top, mapping, syn = parts
        synthesis = Network(self._state("G_synthesis", "G_synthesis", self.kwargs, syn))
        mapping_net = Network(
            self._state("G_mapping", "G_mapping", {**self.kwargs, "dlatent_broadcast": self.num_layers}, mapping)
        )
        return Network(
            self._state(
                name,
                "G_style",
                {**self.kwargs, **self.truncation},
                top,
                {"synthesis": synthesis, "mapping": mapping_net},
            )
        )

    def discriminator(self, Network):
        return Network(self._state("D", "D_basic", self.kwargs, self.d))

    def tuple(self, Network):
        G = self.generator(Network, "G", self.g)
        return (G, self.discriminator(Network), self.generator(Network, "Gs", self.gs))

    def write(self, path, protocol=4, numpy_names=NUMPY1, what="tuple"):
        factories = {"tuple": self.tuple, "D": self.discriminator, "Gs": lambda N: self.generator(N, "Gs", self.gs)}
        return dump(factories[what], path, protocol, numpy_names)


def stylegan2_tuple(Network, rng, resolution=16, version=4):
    """A small (G, D, Gs) in the StyleGAN2 TF layout (G_main, modulated convs), enough to be recognised."""

    def randn(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def net(name, func, variables, components=None):
        return Network(
            {
                "version": version,
                "name": name,
                "static_kwargs": {"resolution": resolution},
                "components": components or {},
                "build_module_src": "# stand-in\n",
                "build_func_name": func,
                "variables": list(variables.items()),
            }
        )

    syn = {
        "4x4/Const/const": randn(1, 16, 4, 4),
        "4x4/Conv/weight": randn(3, 3, 16, 16),
        "4x4/Conv/mod_weight": randn(16, 16),
        "4x4/Conv/mod_bias": randn(16),
        "4x4/Conv/noise_strength": np.float32(0.0),
        "4x4/Conv/bias": randn(16),
        "noise0": randn(1, 1, 4, 4),
    }
    mapping = {"Dense0/weight": randn(16, 16), "Dense0/bias": randn(16)}

    def gen(name):
        return net(
            name,
            "G_main",
            {"lod": np.float32(0), "dlatent_avg": randn(16)},
            {
                "synthesis": net("G_synthesis", "G_synthesis_stylegan2", syn),
                "mapping": net("G_mapping", "G_mapping", mapping),
            },
        )

    return gen("G"), net("D", "D_stylegan2", {"Output/weight": randn(16, 1)}), gen("Gs")


# ------------------------------------------------------------------------------------------------ StyleGAN2 (v4/v5)


def sg2_tf_variables(nv: dict):
    """An NVIDIA-named StyleGAN2 state (sg2_weights.py) -> (Gs own, G_mapping, G_synthesis) variables in the TF
    layout, by NVIDIA's legacy.py map run backwards: conv weights [out, in, kh, kw] -> [kh, kw, in, out] (Conv0_up
    also flipped back), affine -> mod_weight [w_dim, in] and mod_bias - 1, fc -> Dense [in, out]."""

    def a(t):
        return np.ascontiguousarray(t.detach().numpy().astype(np.float32))

    top = {"lod": np.float32(0.0), "dlatent_avg": a(nv["mapping.w_avg"])}  # G_main creates both
    mapping = {}
    if "mapping.embed.weight" in nv:
        mapping["LabelEmbed/weight"] = a(nv["mapping.embed.weight"].T)
        mapping["LabelEmbed/bias"] = a(nv["mapping.embed.bias"])
    i = 0
    while f"mapping.fc{i}.weight" in nv:
        mapping[f"Dense{i}/weight"] = a(nv[f"mapping.fc{i}.weight"].T)
        mapping[f"Dense{i}/bias"] = a(nv[f"mapping.fc{i}.bias"])
        i += 1
    syn = {"4x4/Const/const": a(nv["synthesis.b4.const"][None])}
    noise_i, r = 0, 4
    while f"synthesis.b{r}.conv1.weight" in nv:
        layers = [("Conv", "conv1")] if r == 4 else [("Conv0_up", "conv0"), ("Conv1", "conv1")]
        for scope, layer in layers:
            p, s = f"synthesis.b{r}.{layer}", f"{r}x{r}/{scope}"
            w = nv[f"{p}.weight"].permute(2, 3, 1, 0)
            syn[f"{s}/weight"] = a(w.flip(0, 1) if scope == "Conv0_up" else w)
            syn[f"{s}/mod_weight"] = a(nv[f"{p}.affine.weight"].T)
            syn[f"{s}/mod_bias"] = a(nv[f"{p}.affine.bias"] - 1)
            if f"{p}.noise_strength" in nv:
                syn[f"{s}/noise_strength"] = np.float32(nv[f"{p}.noise_strength"].item())
                syn[f"noise{noise_i}"] = a(nv[f"{p}.noise_const"][None, None])
            syn[f"{s}/bias"] = a(nv[f"{p}.bias"])
            noise_i += 1
        p, s = f"synthesis.b{r}.torgb", f"{r}x{r}/ToRGB"
        syn[f"{s}/weight"] = a(nv[f"{p}.weight"].permute(2, 3, 1, 0))
        syn[f"{s}/mod_weight"] = a(nv[f"{p}.affine.weight"].T)
        syn[f"{s}/mod_bias"] = a(nv[f"{p}.affine.bias"] - 1)
        syn[f"{s}/bias"] = a(nv[f"{p}.bias"])
        r *= 2
    return top, mapping, syn


class SG2Spec:
    """One official-layout StyleGAN2 TF pickle (G, D, Gs) from NVIDIA-named states (Gs's and a different G's)."""

    def __init__(
        self,
        init_kwargs: dict,
        gs_state: dict,
        g_state: dict | None = None,
        version: int = 4,
        static_kwargs: dict | None = None,
        marker=None,
        synthesis_func=None,
    ):
        self.version = version
        self.gs = sg2_tf_variables(gs_state)
        self.g = sg2_tf_variables(g_state) if g_state is not None else self.gs
        syn = init_kwargs.get("synthesis_kwargs", {})
        mk = init_kwargs.get("mapping_kwargs", {})
        kw = {
            "num_channels": init_kwargs["img_channels"],
            "resolution": init_kwargs["img_resolution"],
            "label_size": init_kwargs.get("c_dim", 0),
            "latent_size": init_kwargs["z_dim"],
            "dlatent_size": init_kwargs["w_dim"],
            "mapping_layers": mk.get("num_layers", 8),
            "fmap_base": syn.get("channel_base", 32768) // 2,
            "fmap_max": syn.get("channel_max", 512),
            "architecture": "skip",
        }
        if version >= 5:  # only the ADA code knows these
            kw.update(conv_clamp=syn.get("conv_clamp"), num_fp16_res=0)
        kw.update(static_kwargs or {})
        self.kwargs = kw
        self.synthesis_func = synthesis_func or ("G_synthesis" if version >= 5 else "G_synthesis_stylegan2")
        lines = ["# stand-in for training/networks_stylegan2.py, written by StyleMixer's tests"]
        if marker is not None:
            lines += ["import pathlib", f"pathlib.Path({str(marker)!r}).write_text('build_module_src was executed')"]
        self.source = "\n".join(lines) + "\n"
        rng = np.random.default_rng(0)
        self.d = {
            "Output/weight": rng.standard_normal((16, 1)).astype(np.float32),
            "Output/bias": np.zeros(1, np.float32),
            f"{kw['resolution']}x{kw['resolution']}/FromRGB/weight": rng.standard_normal((1, 1, 3, 16)).astype(
                np.float32
            ),
        }

    def _state(self, name, func, kwargs, variables, components=None):
        st = {
            "version": self.version,
            "name": name,
            "static_kwargs": dict(kwargs),
            "components": dict(components or {}),
            "build_module_src": self.source,
            "build_func_name": func,
            "variables": list(variables.items()),
        }
        if self.version >= 5:
            st.update(
                input_shapes=[[None, self.kwargs["latent_size"]], [None, self.kwargs["label_size"]]],
                output_shapes=[[None, 3, self.kwargs["resolution"], self.kwargs["resolution"]]],
                input_names=["latents_in", "labels_in"],
                output_names=["images_out"],
            )
        return st

    def generator(self, Network, name, parts):
        top, mapping, syn = parts
        synthesis = Network(self._state("G_synthesis", self.synthesis_func, self.kwargs, syn))
        mapping_net = Network(self._state("G_mapping", "G_mapping", self.kwargs, mapping))
        return Network(self._state(name, "G_main", self.kwargs, top, {"synthesis": synthesis, "mapping": mapping_net}))

    def tuple(self, Network):
        D = Network(self._state("D", "D_stylegan2", self.kwargs, self.d))
        return (self.generator(Network, "G", self.g), D, self.generator(Network, "Gs", self.gs))

    def write(self, path, protocol=4, numpy_names=NUMPY1, what="tuple"):
        factories = {
            "tuple": self.tuple,
            "D": lambda N: N(self._state("D", "D_stylegan2", self.kwargs, self.d)),
            "Gs": lambda N: self.generator(N, "Gs", self.gs),
        }
        return dump(factories[what], path, protocol, numpy_names)
