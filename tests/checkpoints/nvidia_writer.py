"""Writes network pickles in the exact format of NVIDIA's stylegan2-ada-pytorch and stylegan3 repos.

Those repos pickle their training snapshots with plain `pickle.dump` of a dict {G, D, G_ema, augment_pipe,
training_set_kwargs}. Each network is a torch.nn.Module tree whose classes are decorated by
`torch_utils.persistence.persistent_class`; the decorator's `__reduce__` takes the module's default reduce
(copyreg's, whose state is the module's `__dict__`) and replaces the constructor by a call of
`torch_utils.persistence._reconstruct_persistent_obj(meta)`, meta = {type: 'class', version: 6, module_src,
class_name, state}. Tensors inside are pickled by torch itself: parameters through
`torch._utils._rebuild_parameter`, tensors through `_rebuild_tensor_v2`, and every storage through
`torch.storage._load_from_bytes(blob)` where blob is a legacy-format torch.save of that storage.

This writer builds real torch.nn.Module trees from plain specs (class name, module name, init kwargs,
parameters, buffers, attributes, children), with the same `__reduce__` as the decorator, and pickles them
with stand-ins for `torch_utils.persistence` and `dnnlib.util.EasyDict` placed in sys.modules only while
pickling. Options reproduce what differs between real files: protocol 3 or 4, NumPy 1.x names
(numpy.core.multiarray, all of NVIDIA's 2020-21 files) or NumPy 2.x names, and torch 1.7-1.9 module dicts
(OrderedDicts, fewer hook dicts) or today's (dicts).
"""

from __future__ import annotations

import collections
import contextlib
import pickle
import sys
import types
from dataclasses import dataclass, field

import numpy as np
import torch

from .tf_writer import NUMPY1, NUMPY2, _numpy1_names

PERSISTENCE_VERSION = 6
TORCH18_KEYS = (
    "training",
    "_parameters",
    "_buffers",
    "_non_persistent_buffers_set",
    "_backward_hooks",
    "_forward_hooks",
    "_forward_pre_hooks",
    "_state_dict_hooks",
    "_load_state_dict_pre_hooks",
    "_modules",
)


@dataclass
class ModuleSpec:
    """One persistent module. params/buffers: name -> tensor (a buffer may be None); attrs: plain attributes
    set in __init__ (numbers, strings, NumPy scalars or arrays); children: name -> ModuleSpec."""

    class_name: str
    module_src: str
    init_kwargs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    init_args: tuple = ()

    def state_dict(self, prefix=""):
        """name -> tensor in named_parameters/named_buffers order, None buffers skipped (what a reader returns)."""
        out = {}
        for k, v in self.params.items():
            out[prefix + k] = v
        for k, v in self.buffers.items():
            if v is not None:
                out[prefix + k] = v
        for k, c in self.children.items():
            out.update(c.state_dict(f"{prefix}{k}."))
        return out

    def all_attrs(self, prefix=""):
        out = {prefix: dict(self.attrs)}
        for k, c in self.children.items():
            out.update(c.all_attrs(f"{prefix}.{k}" if prefix else k))
        return out


class _EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict (pickled like the original: a dict subclass with no instance state)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _easy(value):
    if isinstance(value, dict):
        return _EasyDict({k: _easy(v) for k, v in value.items()})
    return value


def _reconstruct_persistent_obj(meta):  # pragma: no cover - only its name is pickled
    raise AssertionError("the stand-in persistence module is never used to load")


class _Persistent(torch.nn.Module):
    """Base of the stand-in persistent classes; subclasses carry _orig_class_name and _orig_module_src as class
    attributes, as NVIDIA's Decorator does, so the instance __dict__ is exactly a module's."""

    _old_torch = False

    def __reduce__(self):
        fields = list(super().__reduce__())
        fields += [None] * max(3 - len(fields), 0)
        state = fields[2]
        if self._old_torch:
            state = _torch18_state(state)
        meta = dict(
            type="class",
            version=PERSISTENCE_VERSION,
            module_src=self._orig_module_src,
            class_name=self._orig_class_name,
            state=state,
        )
        fields[0] = _reconstruct_persistent_obj
        fields[1] = (meta,)
        fields[2] = None
        return tuple(fields)


def _torch18_state(state):
    """The __dict__ of a module as torch 1.7-1.9 had it: OrderedDicts and only the hook dicts of that era."""
    out = collections.OrderedDict()
    for k in TORCH18_KEYS:
        v = state.get(k, collections.OrderedDict())
        out[k] = collections.OrderedDict(v) if isinstance(v, dict) else v
    for k, v in state.items():
        if k not in out and not (
            k.startswith("_") and k.endswith(("hooks", "hook", "_called", "_kwargs")) and k not in ("_init_kwargs",)
        ):
            out[k] = v
    return out


def _copy(v, memo=None):
    """A deep copy of plain data (as NVIDIA's decorator deep-copies the init kwargs) that leaves other objects
    as they are: copy.deepcopy would call a hostile test object's __reduce__, running its payload here.
    Memo-aware like deepcopy, so shared parts stay shared."""
    memo = {} if memo is None else memo
    if id(v) in memo:
        return memo[id(v)]
    if isinstance(v, dict):
        out = memo[id(v)] = type(v)()
        for k, x in v.items():
            out[k] = _copy(x, memo)
    elif isinstance(v, list):
        out = memo[id(v)] = []
        out.extend(_copy(x, memo) for x in v)
    elif isinstance(v, tuple):
        out = memo[id(v)] = tuple(_copy(x, memo) for x in v)
    elif isinstance(v, (np.ndarray, np.generic)):
        out = memo[id(v)] = v.copy()
    else:
        out = v
    return out


def build_module(spec, old_torch=False, easydict=True, module_src=None) -> torch.nn.Module:
    """A real torch.nn.Module tree for `spec` (this module's ModuleSpec, or any object with class_name, attrs,
    params, buffers, children, init_kwargs, such as sg2_weights.ModuleSpec; module_src then defaults to a
    stand-in source)."""
    src = module_src or getattr(spec, "module_src", None) or stand_in_source()
    cls = type(
        spec.class_name,
        (_Persistent,),
        {"_orig_class_name": spec.class_name, "_orig_module_src": src, "_old_torch": old_torch},
    )
    m = cls()
    for k, v in spec.params.items():
        if isinstance(v, torch.nn.Parameter):  # the same Parameter object in several modules stays shared
            m.register_parameter(k, v)
        elif isinstance(v, torch.Tensor):
            m.register_parameter(k, torch.nn.Parameter(v.detach().clone(), requires_grad=False))
        else:  # anything else goes in as is (hostile files)
            m._parameters[k] = v
    for k, v in spec.buffers.items():
        if v is None or isinstance(v, torch.Tensor):
            m.register_buffer(k, None if v is None else v.detach().clone())
        else:
            m._buffers[k] = v
    for k, v in spec.attrs.items():
        setattr(m, k, _copy(v))
    for k, c in spec.children.items():
        setattr(m, k, build_module(c, old_torch, easydict, src))
    m._init_args = _copy(tuple(getattr(spec, "init_args", ())))
    m._init_kwargs = _copy(_easy(spec.init_kwargs) if easydict else dict(spec.init_kwargs))
    return m.eval()  # parameters were made with requires_grad=False, as in NVIDIA's snapshots


@contextlib.contextmanager
def fake_nvidia_modules():
    """torch_utils.persistence and dnnlib.util stand-ins, only while pickling."""
    names = ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util")
    mods = {n: types.ModuleType(n) for n in names}
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mods["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    _EasyDict.__module__, _EasyDict.__qualname__, _EasyDict.__name__ = "dnnlib.util", "EasyDict", "EasyDict"
    mods["dnnlib.util"].EasyDict = _EasyDict
    saved = {n: sys.modules.get(n) for n in names}
    sys.modules.update(mods)
    try:
        yield
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


class _Pickler(pickle.Pickler):
    """Pickles NumPy arrays and scalars under the NumPy 1.x global names when asked to."""

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


def dump(obj, path, protocol=4, numpy_names=NUMPY2):
    """Pickle an object tree holding modules from build_module (and plain data) to `path`."""
    with fake_nvidia_modules(), contextlib.ExitStack() as stack:
        numpy_mod = stack.enter_context(_numpy1_names()) if numpy_names == NUMPY1 else None
        with open(path, "wb") as f:
            _Pickler(f, protocol, numpy_mod).dump(obj)
    return path


def dumps(obj, protocol=4, numpy_names=NUMPY2) -> bytes:
    import io

    with fake_nvidia_modules(), contextlib.ExitStack() as stack:
        numpy_mod = stack.enter_context(_numpy1_names()) if numpy_names == NUMPY1 else None
        buf = io.BytesIO()
        _Pickler(buf, protocol, numpy_mod).dump(obj)
    return buf.getvalue()


def snapshot(
    G_ema: ModuleSpec,
    G: ModuleSpec | None = None,
    D: ModuleSpec | None = None,
    augment_pipe: ModuleSpec | None = None,
    layout="ada",
    old_torch=False,
    easydict=True,
    training_set_kwargs=None,
    extra=None,
    module_src=None,
):
    """The dict a training snapshot pickles: stylegan2-ada-pytorch's key order (layout 'ada') or stylegan3's
    ('sg3'). A None G/D/augment_pipe is stored as None, as legacy.py does for missing entries."""

    def build(spec):
        return None if spec is None else build_module(spec, old_torch, easydict, module_src)

    tsk = dict(
        training_set_kwargs
        if training_set_kwargs is not None
        else {
            "class_name": "training.dataset.ImageFolderDataset",
            "path": "/data/ffhq.zip",
            "use_labels": False,
            "max_size": 70000,
            "xflip": True,
            "resolution": 1024,
        }
    )
    nets = {"G": build(G), "D": build(D), "G_ema": build(G_ema), "augment_pipe": build(augment_pipe)}
    if layout == "ada":
        out = {"training_set_kwargs": tsk, **nets}
    else:
        out = {**nets, "training_set_kwargs": tsk}
    out.update(extra or {})
    return out


def write(path, G_ema: ModuleSpec, protocol=4, numpy_names=NUMPY2, **kw):
    return dump(snapshot(G_ema, **kw), path, protocol, numpy_names)


_BUFFER_NAMES = {
    "resample_filter",
    "noise_const",
    "w_avg",
    "transform",
    "freqs",
    "phases",
    "magnitude_ema",
    "up_filter",
    "down_filter",
}


def _class_for(path: str) -> str:
    """NVIDIA's class for a module path of a StyleGAN2/3 Generator."""
    last = path.rsplit(".", 1)[-1]
    if path == "":
        return "Generator"
    if path == "mapping":
        return "MappingNetwork"
    if path == "synthesis":
        return "SynthesisNetwork"
    if path == "synthesis.input":
        return "SynthesisInput"
    if last == "affine" or path.startswith("mapping."):
        return "FullyConnectedLayer"
    if last == "torgb":
        return "ToRGBLayer"
    if last == "skip":
        return "Conv2dLayer"
    if path.count(".") == 1 and last.startswith("b") and last[1:].isdigit():
        return "SynthesisBlock"
    return "SynthesisLayer"


def spec_from_record(rec, module_src=None) -> ModuleSpec:
    """The module tree behind a NetworkRecord (what a reader returns for it): modules from the attribute paths
    and tensor names in their order, tensors as parameters or buffers by NVIDIA's buffer names, the init kwargs
    on the top module. (A record holds no None buffers; NVIDIA's loaders do not need them.)"""
    src = module_src or stand_in_source(
        "stylegan3"
        if "networks_stylegan3" in rec.module
        else "stylegan2-sg3repo"
        if rec.module.endswith("stylegan2")
        else "stylegan2"
    )
    nodes = {}

    def node(path):
        if path not in nodes:
            if path:
                parent = node(path.rsplit(".", 1)[0] if "." in path else "")
            nodes[path] = ModuleSpec(_class_for(path), src, attrs=dict(rec.attrs.get(path, {})))
            if path:
                parent.children[path.rsplit(".", 1)[-1]] = nodes[path]
        return nodes[path]

    for k, t in rec.state.items():
        path, name = k.rsplit(".", 1) if "." in k else ("", k)
        (node(path).buffers if name in _BUFFER_NAMES else node(path).params)[name] = t
    for path in rec.attrs:
        node(path)
    node("").init_kwargs = dict(rec.init_kwargs)
    return nodes[""]


# ----------------------------------------------------------------------------------------------------------
# Small synthetic networks with NVIDIA's names and attribute kinds (the family tests use full-size ones)


def stand_in_source(kind="stylegan2", marker=None) -> str:
    """A stand-in for the embedded training/networks*.py (not NVIDIA's text). If anything ever executed it,
    it would create `marker`."""
    lines = [f"# stand-in for NVIDIA's {kind} network module, written by StyleMixer's tests"]
    if marker is not None:
        lines += ["import pathlib", f"pathlib.Path({str(marker)!r}).write_text('module_src was executed')"]
    if kind == "stylegan3":
        lines += ["from torch_utils.ops import filtered_lrelu", "class SynthesisInput: pass"]
    elif kind == "stylegan2-sg3repo":
        lines += ["class Generator:", "    def forward(self, z, c, update_emas=False): pass"]
    lines += ["class Generator: pass", "class MappingNetwork: pass", "class SynthesisNetwork: pass"]
    return "\n".join(lines) + "\n"


def _randn(gen, *shape):
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def _fc(gen, fin, fout, src, lr=1.0, bias_init=0.0, activation="linear"):
    return ModuleSpec(
        "FullyConnectedLayer",
        src,
        init_kwargs={
            "in_features": fin,
            "out_features": fout,
            "lr_multiplier": lr,
            "bias_init": bias_init,
            "activation": activation,
        },
        params={"weight": _randn(gen, fout, fin), "bias": _randn(gen, fout)},
        attrs={
            "in_features": fin,
            "out_features": fout,
            "activation": activation,
            "weight_gain": np.float64(lr / np.sqrt(fin)),
            "bias_gain": lr,
        },
    )


def _filter():
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    return torch.outer(f, f) / 64


def stylegan2_generator(
    rng, res=1024, channel_base=32768, channel_max=512, z_dim=512, w_dim=512, mapping_layers=8, src=None
) -> ModuleSpec:
    """A StyleGAN2 generator tree with stylegan2-ada-pytorch's module classes, names, shapes and attribute kinds
    (config F, skip architecture; fact sheet B4 and Appendix 2), random values."""
    src = src or stand_in_source("stylegan2")
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
    log2 = int(np.log2(res))
    num_ws = 2 * log2 - 2

    def ch(r):
        return min(channel_base // r, channel_max)

    mapping = ModuleSpec(
        "MappingNetwork",
        src,
        init_kwargs={"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "num_ws": num_ws, "num_layers": mapping_layers},
        buffers={"w_avg": _randn(gen, w_dim)},
        attrs={
            "z_dim": z_dim,
            "c_dim": 0,
            "w_dim": w_dim,
            "num_ws": num_ws,
            "num_layers": mapping_layers,
            "w_avg_beta": 0.995,
        },
        children={
            f"fc{i}": _fc(gen, z_dim if i == 0 else w_dim, w_dim, src, 0.01, activation="lrelu")
            for i in range(mapping_layers)
        },
    )

    def layer(cin, cout, r, up):
        return ModuleSpec(
            "SynthesisLayer",
            src,
            params={
                "weight": _randn(gen, cout, cin, 3, 3),
                "noise_strength": torch.zeros(()),
                "bias": _randn(gen, cout),
            },
            buffers={"resample_filter": _filter(), "noise_const": _randn(gen, r, r)},
            attrs={
                "in_channels": cin,
                "out_channels": cout,
                "w_dim": w_dim,
                "resolution": r,
                "up": up,
                "use_noise": True,
                "activation": "lrelu",
                "conv_clamp": 256,
                "padding": 1,
                "act_gain": 1.4142135623730951,
                "channels_last": False,
            },
            children={"affine": _fc(gen, w_dim, cin, src, bias_init=1)},
        )

    blocks = {}
    for k in range(2, log2 + 1):
        r = 2**k
        cin, cout = (0 if r == 4 else ch(r // 2)), ch(r)
        kids = {}
        if r > 4:
            kids["conv0"] = layer(cin, cout, r, 2)
        kids["conv1"] = layer(cout, cout, r, 1)
        kids["torgb"] = ModuleSpec(
            "ToRGBLayer",
            src,
            params={"weight": _randn(gen, 3, cout, 1, 1), "bias": _randn(gen, 3)},
            attrs={
                "in_channels": cout,
                "out_channels": 3,
                "w_dim": w_dim,
                "conv_clamp": 256,
                "channels_last": False,
                "weight_gain": np.float64(1 / np.sqrt(cout)),
            },
            children={"affine": _fc(gen, w_dim, cout, src, bias_init=1)},
        )
        blocks[f"b{r}"] = ModuleSpec(
            "SynthesisBlock",
            src,
            params={"const": _randn(gen, cout, 4, 4)} if r == 4 else {},
            buffers={"resample_filter": _filter()},
            attrs={
                "in_channels": cin,
                "w_dim": w_dim,
                "resolution": r,
                "img_channels": 3,
                "is_last": r == res,
                "architecture": "skip",
                "use_fp16": bool(k > log2 - 4),
                "channels_last": False,
                "num_conv": 1 + (r > 4),
                "num_torgb": 1,
            },
            children=kids,
        )
    synthesis = ModuleSpec(
        "SynthesisNetwork",
        src,
        init_kwargs={
            "w_dim": w_dim,
            "img_resolution": res,
            "img_channels": 3,
            "channel_base": channel_base,
            "channel_max": channel_max,
            "num_fp16_res": 4,
            "conv_clamp": 256,
        },
        attrs={
            "w_dim": w_dim,
            "img_resolution": res,
            "img_resolution_log2": log2,
            "img_channels": 3,
            "block_resolutions": [2**i for i in range(2, log2 + 1)],
            "num_ws": num_ws,
        },
        children=blocks,
    )
    return ModuleSpec(
        "Generator",
        src,
        init_kwargs={
            "z_dim": z_dim,
            "c_dim": 0,
            "w_dim": w_dim,
            "img_resolution": res,
            "img_channels": 3,
            "mapping_kwargs": {"num_layers": mapping_layers},
            "synthesis_kwargs": {
                "channel_base": channel_base,
                "channel_max": channel_max,
                "num_fp16_res": 4,
                "conv_clamp": 256,
            },
        },
        attrs={"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": res, "img_channels": 3, "num_ws": num_ws},
        children={"synthesis": synthesis, "mapping": mapping},
    )


def tiny_stylegan2(rng, src=None, z_dim=8, w_dim=8, channels=8, res=8) -> ModuleSpec:
    """A small StyleGAN2 generator (same names and kinds as stylegan2_generator)."""
    return stylegan2_generator(
        rng,
        res=res,
        channel_base=channels * 4,
        channel_max=channels,
        z_dim=z_dim,
        w_dim=w_dim,
        mapping_layers=2,
        src=src,
    )


def stylegan2_discriminator(rng, res=1024, channel_base=32768, channel_max=512, src=None) -> ModuleSpec:
    """A resnet D tree of stylegan2-ada-pytorch's shapes (about as large as G), random values."""
    src = src or stand_in_source("stylegan2")
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))

    def ch(r):
        return min(channel_base // r, channel_max)

    def conv(cin, cout, k=3, bias=True):
        return ModuleSpec(
            "Conv2dLayer",
            src,
            params={"weight": _randn(gen, cout, cin, k, k), **({"bias": _randn(gen, cout)} if bias else {})},
            buffers={"resample_filter": _filter()},
            attrs={"activation": "lrelu", "conv_clamp": 256},
        )

    kids = {}
    log2 = int(np.log2(res))
    for k in range(log2, 2, -1):
        r = 2**k
        block = {
            "conv0": conv(ch(r), ch(r)),
            "conv1": conv(ch(r), ch(r // 2)),
            "skip": conv(ch(r), ch(r // 2), 1, False),
        }
        if r == res:
            block["fromrgb"] = conv(3, ch(r), 1)
        kids[f"b{r}"] = ModuleSpec(
            "DiscriminatorBlock",
            src,
            buffers={"resample_filter": _filter()},
            attrs={"resolution": r, "architecture": "resnet", "use_fp16": False},
            children=block,
        )
    kids["b4"] = ModuleSpec(
        "DiscriminatorEpilogue",
        src,
        attrs={"resolution": 4, "architecture": "resnet"},
        children={
            "mbstd": ModuleSpec("MinibatchStdLayer", src, attrs={"group_size": 4, "num_channels": 1}),
            "conv": conv(ch(4) + 1, ch(4)),
            "fc": _fc(gen, ch(4) * 16, ch(4), src, activation="lrelu"),
            "out": _fc(gen, ch(4), 1, src),
        },
    )
    return ModuleSpec(
        "Discriminator",
        src,
        init_kwargs={"c_dim": 0, "img_resolution": res, "img_channels": 3},
        attrs={"c_dim": 0, "img_resolution": res, "img_channels": 3},
        children=kids,
    )


def tiny_stylegan3(rng, src=None, w_dim=8, channels=8) -> ModuleSpec:
    """A small StyleGAN3-shaped G: SynthesisInput `input`, layers L0_36_8 ... with numpy-array attributes, np.bool_
    use_fp16 and None filter buffers, as the real networks_stylegan3 objects have."""
    src = src or stand_in_source("stylegan3")
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
    f32 = lambda *s: _randn(gen, *s)
    inp = ModuleSpec(
        "SynthesisInput",
        src,
        params={"weight": f32(channels, channels)},
        buffers={"transform": torch.eye(3), "freqs": f32(channels, 2), "phases": f32(channels)},
        attrs={"w_dim": w_dim, "channels": channels, "size": np.array([36, 36]), "sampling_rate": 16, "bandwidth": 2.0},
        children={"affine": _fc(gen, w_dim, 4, src)},
    )
    layers = {}
    for i, (name, up) in enumerate((("L0_36_8", None), ("L1_20_3", f32(12)))):
        layers[name] = ModuleSpec(
            "SynthesisLayer",
            src,
            params={"weight": f32(channels, channels, 3, 3), "bias": f32(channels)},
            buffers={"magnitude_ema": torch.ones(()), "up_filter": up, "down_filter": None},
            attrs={
                "is_torgb": i == 1,
                "is_critically_sampled": False,
                "use_fp16": np.bool_(i == 0),
                "in_size": np.array([36, 36], dtype=np.int64),
                "out_size": np.array([36, 36], dtype=np.int64),
                "conv_kernel": 3,
                "padding": np.array([10, 10, 10, 10], dtype=np.int64),
                "up_factor": 1,
                "down_factor": 2,
            },
            children={"affine": _fc(gen, w_dim, channels, src, bias_init=1)},
        )
    mapping = ModuleSpec(
        "MappingNetwork",
        src,
        buffers={"w_avg": f32(w_dim)},
        attrs={"z_dim": w_dim, "c_dim": 0, "w_dim": w_dim, "num_ws": 3, "w_avg_beta": 0.998},
        children={"fc0": _fc(gen, w_dim, w_dim, src, 0.01, activation="lrelu")},
    )
    synthesis = ModuleSpec(
        "SynthesisNetwork",
        src,
        attrs={"w_dim": w_dim, "num_ws": 3, "img_resolution": 16, "layer_names": list(layers)},
        children={"input": inp, **layers},
    )
    return ModuleSpec(
        "Generator",
        src,
        init_kwargs={
            "z_dim": w_dim,
            "c_dim": 0,
            "w_dim": w_dim,
            "img_resolution": 16,
            "img_channels": 3,
            "mapping_kwargs": {"num_layers": 1},
            "channel_base": 32768,
            "channel_max": 512,
            "magnitude_ema_beta": 0.999,
        },
        attrs={"z_dim": w_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": 16, "img_channels": 3, "num_ws": 3},
        children={"synthesis": synthesis, "mapping": mapping},
    )


def tiny_discriminator(rng, src=None) -> ModuleSpec:
    return stylegan2_discriminator(rng, res=8, channel_base=32, channel_max=8, src=src)


def tiny_augment_pipe(rng, src=None) -> ModuleSpec:
    src = src or "# stand-in for training/augment.py\n"
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
    return ModuleSpec(
        "AugmentPipe",
        src,
        init_kwargs={"xflip": 1, "rotate90": 1},
        buffers={"p": torch.zeros(()), "Hz_geom": _randn(gen, 12), "Hz_fbank": _randn(gen, 4, 12)},
        attrs={"xflip": 1.0, "rotate90": 1.0, "imgfilter_std": 1},
    )
