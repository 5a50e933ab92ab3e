"""Resumable synthesis: the state entering w index k depends only on rows < k, and resuming from a cached state
gives the uncached image bit for bit (with and without statistics), for T and R."""

import pytest
import torch

from stylemixer.core.families.api import ResumableSynthesis
from stylemixer.core.stats import Capture
from tests.families.sg3_models import sg3_generator, zs


def run(synth, ws, ctx, capture=None, start=0, state=None):
    state = synth.start(ctx) if start == 0 else state
    states = [state]
    for k in range(start, synth.num_ws):
        state = synth.advance(k, state, ws[:, k], ctx, capture)
        states.append(state)
    return synth.finish(state, ctx), states


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["T", "R"])
@pytest.mark.parametrize("options", [None, {"translate": (0.05, -0.1), "rotate": 15.0}])
def test_resume_at_every_index_is_bit_exact(variant, options):
    G = sg3_generator(variant, 64, 0)
    synth = G.synthesis
    assert isinstance(synth, ResumableSynthesis)
    ws_a, ws_b = G.mapping(zs([1])), G.mapping(zs([2]))
    ctx = synth.context(1, "const", 0, options)
    _, states_a = run(synth, ws_a, ctx)
    assert len(states_a) == synth.num_ws + 1
    for k in range(synth.num_ws + 1):
        mix = ws_a.clone()
        mix[:, k:] = ws_b[:, k:]  # rows < k from A: the state entering k is A's
        uncached = synth(mix, options=options)
        resumed, _ = run(synth, mix, ctx, start=k, state=states_a[k])
        assert torch.equal(resumed, uncached), f"resuming at w index {k} changed the image"


def test_forward_runs_exactly_start_advance_finish():
    G = sg3_generator("R", 64, 1)
    ws = G.mapping(zs([3, 4]))  # a batch too
    ctx = G.synthesis.context(2, options={"rotate": 5.0})
    img, _ = run(G.synthesis, ws, ctx)
    assert torch.equal(img, G.synthesis(ws, options={"rotate": 5.0}))
    assert torch.equal(img, G(zs([3, 4]), options={"rotate": 5.0}))


def test_statistics_never_change_the_image_and_resume_exactly():
    G = sg3_generator("T", 64, 2)
    synth = G.synthesis
    ws_a, ws_b = G.mapping(zs([5])), G.mapping(zs([6]))
    ctx = synth.context(1)
    plain = synth(ws_b)
    cap_full = Capture(stats=True, feature_layer=7)
    with_stats, _ = run(synth, ws_b, ctx, cap_full)
    assert torch.equal(plain, with_stats)
    full = cap_full.result()
    assert sorted(full) == list(range(synth.num_ws))
    _, states_a = run(synth, ws_a, ctx)
    k = 6
    mix = ws_a.clone()
    mix[:, k:] = ws_b[:, k:]
    cap = Capture(stats=True, feature_layer=7)
    resumed, _ = run(synth, mix, ctx, cap, start=k, state=states_a[k])
    assert torch.equal(resumed, synth(mix))
    part = cap.result()
    cap_mix = Capture(stats=True, feature_layer=7)
    run(synth, mix, ctx, cap_mix)
    whole = cap_mix.result()
    assert sorted(part) == list(range(k, synth.num_ws))
    for i in part:
        assert part[i] == whole[i]
    assert torch.equal(cap.features, cap_mix.features)


def test_state_depends_only_on_earlier_rows():
    G = sg3_generator("R", 64, 0)
    synth = G.synthesis
    ws = G.mapping(zs([8]))
    ctx = synth.context(1)
    _, states = run(synth, ws, ctx)
    for k in (1, 5, 15):
        other = ws.clone()
        other[:, k:] = G.mapping(zs([9]))[:, k:]
        _, states_o = run(synth, other, ctx)
        assert all(torch.equal(a, b) for a, b in zip(states[k], states_o[k]))
        assert not torch.equal(states[k + 1][0], states_o[k + 1][0])


def test_the_input_transform_is_part_of_the_context():
    G = sg3_generator("T", 64, 0)
    synth = G.synthesis
    plain, moved = synth.context(1), synth.context(1, options={"translate": (0.1, 0.0)})
    assert plain.key != moved.key
    assert synth.context(1, options={"translate": (0, 0), "rotate": 0}).key == plain.key
    ws = G.mapping(zs([1]))
    assert not torch.equal(synth.advance(0, (), ws[:, 0], plain)[0], synth.advance(0, (), ws[:, 0], moved)[0])


@pytest.mark.parametrize(
    "options", [{"scale": 2}, {"translate": (1, 2, 3)}, {"rotate": float("nan")}, {"translate": ("a", 0)}]
)
def test_bad_options_are_refused(options):
    from stylemixer.core.errors import RecipeError

    with pytest.raises(RecipeError):
        sg3_generator("T", 64, 0).synthesis.context(1, options=options)


def test_example_states_have_the_shapes_of_real_states():
    G = sg3_generator("R", 64, 0)
    synth = G.synthesis
    ws = G.mapping(zs([1]))
    _, states = run(synth, ws, synth.context(1))
    g = torch.Generator().manual_seed(0)
    total = 0
    for k in range(synth.num_ws):
        ex = synth.example_state(k, 1, g)
        assert [t.shape for t in ex] == [t.shape for t in states[k]]
        total += sum(t.numel() * 4 for t in states[k])
    assert G.state_nbytes() == total


def test_memory_format_of_states():
    G = sg3_generator("T", 64, 0)
    synth = G.synthesis
    ws = G.mapping(zs([1]))
    ref = synth(ws)
    try:
        synth.set_memory_format(torch.contiguous_format)
        ctx = synth.context(1)
        img, states = run(synth, ws, ctx)
        assert all(s[0].is_contiguous() for s in states[1:])
        assert (img - ref).abs().max() < 1e-5
    finally:
        synth.set_memory_format(torch.channels_last)
