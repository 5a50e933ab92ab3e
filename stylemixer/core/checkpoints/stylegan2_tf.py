"""Open NVIDIA's official StyleGAN2 and StyleGAN2-ADA TensorFlow pickles (network versions 4 and 5), e.g.
stylegan2-ffhq-config-f.pkl, without TensorFlow and without running anything in the file.

The container is the same as StyleGAN v1's: the tuple (G, D, Gs) of `dnnlib.tflib.network.Network`, read with the
restricted unpickler in tf_pickle. Gs (built by G_main, with the components 'mapping' (G_mapping) and 'synthesis'
(G_synthesis_stylegan2, or G_synthesis in the ADA repo)) is converted by families/stylegan2/convert.py with the
name map of NVIDIA's legacy.py; its variables are collected as legacy.py does: the network's own under their names,
each component's under '<component>/'.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ModelFileError
from . import tf_pickle
from .tf_pickle import NETWORK_CLASS, TFNetwork

if TYPE_CHECKING:
    from . import LoadedModel

FORMAT = "stylegan2-tf"


def _kind(version: object) -> str:
    return "StyleGAN2-ADA" if isinstance(version, int) and version >= 5 else "StyleGAN2"


def try_load(
    path: str | os.PathLike[str], kind: str, device: str = "cpu", progress: Callable[[float], None] | None = None
) -> LoadedModel | None:
    """A LoadedModel for a TF StyleGAN2 pickle; None for any other file (StyleGAN v1 pickles included);
    ModelFileError for a StyleGAN2 pickle that cannot be used."""
    if kind != "pickle":
        return None
    path = os.fspath(path)
    name = os.path.basename(path)
    with tf_pickle.open_pickle(path) as (f, size, head):
        version = head.version
        if head.first != NETWORK_CLASS or (version is not None and version < 4):
            return None
        if not tf_pickle.sp.ends_complete(f):
            what = f"a {_kind(version)} TensorFlow pickle" if version is not None else "a TensorFlow pickle"
            raise ModelFileError(
                f"{name} is {what} that is truncated (it ends before the pickle does); download it again"
            )
        top = tf_pickle.load_file(f, size, name, progress)
    nets = tf_pickle.networks(top)
    versions = [v for n in nets if isinstance(v := getattr(n, "version", None), int)]
    if version is None and (not versions or max(versions) < 4):
        return None  # a StyleGAN v1 pickle whose version was not in the first bytes: stylegan1.try_load reads it
    Gs = pick_generator(nets, name)
    del top, nets
    variables, kwargs, synthesis_func = collect(Gs, name)
    from ..families.stylegan2.convert import from_tf

    info = {"tf_network_version": Gs.version, "network_name": getattr(Gs, "name", None)}
    G = from_tf(variables, kwargs, name, synthesis_func, info)
    del variables, Gs
    if progress is not None:
        progress(1.0)
    from . import LoadedModel

    return LoadedModel(G.to(device), os.path.abspath(path), name, FORMAT, info)


def pick_generator(nets: list, name: str) -> TFNetwork:
    """Gs from (G, D, Gs): the G_main network named Gs, else the last G_main."""
    return tf_pickle.pick_built_by(nets, "G_main", "StyleGAN2", name)


def collect(Gs: TFNetwork, name: str) -> tuple[dict, dict, str]:
    """(variables {'mapping/Dense0/weight': array, ...}, merged static kwargs, synthesis build function name)."""
    variables: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}

    def walk(prefix: str, net: TFNetwork, depth: int) -> None:
        if depth > 4:
            raise ModelFileError(f"{name}: the generator's networks nest too deeply")
        v = getattr(net, "version", None)
        if not isinstance(v, int) or v < 4:
            raise ModelFileError(
                f"{name}: network '{getattr(net, 'name', '?')}' has version {v!r}; StyleGAN2 files have version 4 or 5"
            )
        try:
            for k, arr in net.own_variables().items():
                variables[prefix + k] = arr
        except pickle.UnpicklingError as e:
            raise ModelFileError(f"{name} is damaged: {e}") from None
        net.variables = None  # the dict above owns the arrays now
        kw = getattr(net, "static_kwargs", None) or {}
        if not isinstance(kw, dict):
            raise ModelFileError(f"{name}: network '{getattr(net, 'name', '?')}' has malformed static_kwargs")
        for k, val in tf_pickle.plain(kw).items():
            kwargs.setdefault(k, val)  # the outer network's value wins, as G_main passes its kwargs down
        comps = getattr(net, "components", None) or {}
        if not isinstance(comps, dict):
            raise ModelFileError(f"{name}: network '{getattr(net, 'name', '?')}' has malformed components")
        for cname, comp in comps.items():
            if not isinstance(comp, TFNetwork) or not isinstance(cname, str):
                raise ModelFileError(f"{name}: the generator's component {str(cname)[:40]!r} is not a network")
            walk(f"{prefix}{cname}/", comp, depth + 1)

    walk("", Gs, 0)
    synthesis = Gs.component("synthesis")
    if synthesis is None:
        raise ModelFileError(f"{name}: the generator has no 'synthesis' component")
    return variables, kwargs, str(getattr(synthesis, "build_func_name", ""))


__all__ = ["FORMAT", "collect", "pick_generator", "try_load"]
