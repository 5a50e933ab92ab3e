"""Inert records of networks read from foreign checkpoints: plain data and tensors, never live objects.

The pickle readers turn NVIDIA's persistence-wrapped modules (and rosinality's training files) into these
records without importing or running anything from the file; each family's converter turns a record into its
own generator. The record is the contract between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NetworkRecord:
    """One network (e.g. NVIDIA's G_ema) as data.

    module:      the module name the file claims, e.g. "training.networks_stylegan2" (never imported)
    class_name:  e.g. "Generator"
    init_kwargs: the constructor arguments the file recorded, as plain Python (dict, list, str, int, float,
                 bool, None); nested EasyDicts become dicts
    state:       parameters and buffers under their state_dict names, e.g. "synthesis.b4.conv1.weight",
                 "mapping.w_avg", "synthesis.L0_36_512.up_filter" -> torch.Tensor (CPU); None buffers omitted
    attrs:       plain (non-tensor, non-module) attributes per submodule path ("" for the top level), e.g.
                 attrs["synthesis.L3_52_1024"]["up_factor"] == 2; numpy scalars and small arrays as Python values
    """

    module: str
    class_name: str
    init_kwargs: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    source_format: str = ""  # "nvidia-pickle", "rosinality", "tf-pickle"
