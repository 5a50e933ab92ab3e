"""Damaged, foreign and non-matching files each get a clear one-line message (ModelFileError)."""

import pickle

import numpy as np
import pytest

from stylemixer.core.checkpoints import load_any
from stylemixer.core.errors import ModelFileError

from .tf_writer import NUMPY1, Spec, dump, stylegan2_tuple


def small_spec(**kw):
    args = dict(
        resolution=16, fmap_base=64, fmap_max=16, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=3
    )
    args.update(kw)
    return Spec(**args)


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.pkl"
    small_spec().write(path)
    return path.read_bytes()


@pytest.mark.parametrize("fraction", [0.0005, 0.3, 0.9, 0.9999])
def test_truncated_files(tmp_path, good_bytes, fraction):
    path = tmp_path / "cut.pkl"
    path.write_bytes(good_bytes[: max(int(len(good_bytes) * fraction), 3)])
    with pytest.raises(ModelFileError, match="truncated"):
        load_any(path)


def test_a_truncated_file_that_happens_to_end_like_a_pickle(tmp_path, good_bytes):
    cut = good_bytes[: len(good_bytes) // 2]
    path = tmp_path / "cut.pkl"
    path.write_bytes(cut + b".")
    with pytest.raises(ModelFileError, match="truncated|damaged"):
        load_any(path)


def test_discriminator_only(tmp_path):
    path = small_spec().write(tmp_path / "D.pkl", what="D")
    with pytest.raises(ModelFileError, match="only a discriminator"):
        load_any(path)


@pytest.mark.parametrize("version", [4, 5])
def test_incomplete_stylegan2_tf_pickles(tmp_path, version):
    """StyleGAN2 TF pickles go to the StyleGAN2 reader (tests/checkpoints/test_stylegan2_files.py reads complete
    ones); this one lacks most layers, and the message says which."""
    path = tmp_path / "stylegan2-ffhq-config-f.pkl"
    dump(lambda N: stylegan2_tuple(N, np.random.default_rng(0), version=version), path)
    with pytest.raises(ModelFileError, match="stylegan2-ffhq-config-f.pkl: the last block has no toRGB layer"):
        load_any(path)


def test_stylegan2_recognised_from_the_first_bytes(tmp_path):
    """The version is read before loading: even a truncated StyleGAN2 download is named as such."""
    path = tmp_path / "stylegan2-cut.pkl"
    dump(lambda N: stylegan2_tuple(N, np.random.default_rng(0), version=4), path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ModelFileError, match="StyleGAN2 TensorFlow pickle"):
        load_any(path)


def test_stylegan2_detected_even_when_the_version_is_not_near_the_start(tmp_path):
    from stylemixer.core.checkpoints.stylegan1 import pick_generator
    from stylemixer.core.checkpoints.tf_pickle import TFNetwork

    n = TFNetwork()
    n._build({"version": 4, "name": "Gs", "build_func_name": "G_main"})
    with pytest.raises(ModelFileError, match="StyleGAN2 TensorFlow pickle"):
        pick_generator((n,), "x.pkl")


@pytest.mark.parametrize("head", [b"", b"\x00\x01", b"GIF89a"])
def test_random_bytes(tmp_path, head):
    path = tmp_path / "noise.pkl"
    path.write_bytes(head + np.random.default_rng(1).bytes(5000))
    with pytest.raises(ModelFileError, match="not a model file StyleMixer can read"):
        load_any(path)


def test_random_bytes_after_a_pickle_header(tmp_path):
    path = tmp_path / "noise.pkl"
    path.write_bytes(b"\x80\x04" + np.random.default_rng(2).bytes(5000))
    with pytest.raises(ModelFileError, match="pickle of a kind StyleMixer does not read"):
        load_any(path)


def test_garbage_after_the_network_class(tmp_path, good_bytes):
    path = tmp_path / "noise.pkl"
    cut = good_bytes.index(b"Network\x94\x93") + len("Network\x94\x93")  # just after STACK_GLOBAL
    path.write_bytes(good_bytes[:cut] + np.random.default_rng(3).bytes(4000) + b".")
    with pytest.raises(ModelFileError, match="damaged|truncated|refers to"):
        load_any(path)


def test_other_pickles_are_left_to_other_loaders(tmp_path):
    path = tmp_path / "dict.pkl"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    with pytest.raises(ModelFileError, match="pickle of a kind StyleMixer does not read"):
        load_any(path)


def _drop(spec, key):
    del spec.gs[2][key]


def _extra(spec, key):
    spec.gs[2][key] = np.zeros(3, np.float32)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda s: _drop(s, "8x8/Conv1/Noise/weight"), "lacks 1 .*8x8/Conv1/Noise/weight"),
        (lambda s: _drop(s, "noise3"), "lacks 1 .*noise3"),
        (lambda s: _extra(s, "8x8/Conv1/Extra/weight"), "unexpected .*Extra"),
        (
            lambda s: s.gs[2].__setitem__("8x8/Conv1/StyleMod/weight", np.zeros((32, 16), np.float32)),
            r"StyleMod/weight has shape \[32, 16\], expected \[16, 32\]",
        ),
        (lambda s: s.gs[1].__setitem__("LabelConcat/weight", np.zeros((10, 16), np.float32)), "conditional"),
        (lambda s: s.gs[2].__setitem__("lod", np.float32(1.5)), "mid-training snapshot"),
        (lambda s: s.gs[2]["16x16/Conv1/bias"].__setitem__(0, np.nan), "NaN"),
        (
            lambda s: s.gs[2].__setitem__("16x16/Conv1/bias", s.gs[2]["16x16/Conv1/bias"].astype(np.int32)),
            "expected float",
        ),
        (lambda s: s.kwargs.__setitem__("use_styles", False), "use_styles=False"),
        (lambda s: s.kwargs.__setitem__("resolution", 1024), "resolution=1024 but the variables are for 16"),
        (lambda s: s.kwargs.__setitem__("blur_filter", None), "blur_filter"),
    ],
)
def test_wrong_variable_sets_and_options(tmp_path, change, message):
    spec = small_spec()
    change(spec)
    with pytest.raises(ModelFileError, match=message):
        load_any(spec.write(tmp_path / "m.pkl"))


def test_a_progressive_gan_generator_is_named(tmp_path):
    spec = small_spec()

    def factory(N):
        G, D, Gs = spec.tuple(N)
        for net in (G, Gs):
            net._state["build_func_name"] = "G_paper"
        return G, D, Gs

    path = dump(factory, tmp_path / "progan.pkl", 4, NUMPY1)
    with pytest.raises(ModelFileError, match="G_paper, not the StyleGAN generator"):
        load_any(path)
