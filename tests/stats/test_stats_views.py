import numpy as np
import pytest

from stylemixer.core import stats_views as sv
from stylemixer.core.families.stylegan1.network import STATS_SPEC
from stylemixer.core.stats import LayerStats

from .direct import direct_stats

QUANTITIES = STATS_SPEC.keys


def _layer(**kw):
    c = len(next(iter(kw.values())))
    full = {q: np.zeros((1, c), np.float32) for q in QUANTITIES}
    for q, v in kw.items():
        full[q] = np.asarray(v, np.float32)[None]
    return LayerStats(full)


def test_captured_statistics_match_a_direct_computation(stats_renderer, stats_recipe, stats_result):
    ref, _ = direct_stats(stats_renderer.G, stats_recipe)
    assert sorted(stats_result.stats["mix"]) == list(range(stats_renderer.num_ws))
    for src in sv.SOURCES:
        for k, want in ref[src].items():
            for q in QUANTITIES:
                got = sv.channel_values(stats_result.stats[src][k], q)
                np.testing.assert_allclose(got, want[q], rtol=1e-4, atol=1e-4, err_msg=f"{src} layer {k} {q}")


def test_order_by_difference_puts_the_largest_first_and_keeps_ties_in_index_order():
    a = _layer(y_s=[1.0, 1.0, 1.0, 1.0, 1.0], y_b=[0.0, 0.0, 0.0, 0.0, 0.0])
    b = _layer(y_s=[1.0, 3.0, 0.5, 1.0, 1.5], y_b=[0.0, 0.0, 0.0, -2.0, 0.0])
    # differences: 0, 2, 0.5, 2, 0.5
    assert sv.channel_order(a, b, "difference", STATS_SPEC).tolist() == [1, 3, 2, 4, 0]
    assert sv.channel_order(a, b, "index", STATS_SPEC).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        sv.channel_order(a, b, "random", STATS_SPEC)


def test_summary_and_distances():
    a = _layer(y_s=[1.0, 2.0], y_b=[0.0, 1.0], mean_out=[0.0, 1.0])
    b = _layer(y_s=[3.0, 2.0], y_b=[0.0, -1.0], mean_out=[0.0, -1.0])
    mix = _layer(y_s=[2.0, 2.0], y_b=[0.0, 0.0], mean_out=[0.0, 0.0])
    stats = {"mix": {7: mix}, "a": {7: a}, "b": {7: b}}
    s = sv.layer_summary(stats, 7, STATS_SPEC)
    assert s.means["a"]["y_s"] == pytest.approx(1.5)
    assert s.means["b"]["mean_out"] == pytest.approx(-0.5)
    assert s.a_to_b == pytest.approx((2 + 0 + 0 + 2) / 2)
    assert s.mix_to_a == pytest.approx(1.0) and s.mix_to_b == pytest.approx(1.0)
    assert s.position == pytest.approx(0.5)
    keys, d = sv.distances_across_layers(stats, STATS_SPEC)
    assert keys.tolist() == [7] and d.tolist() == pytest.approx([2.0])


def test_mix_that_takes_a_layer_from_a_is_at_distance_zero_from_a(stats_result):
    # weights 0 at index 0: the mix uses A's w there, so its styles are A's exactly.
    s = sv.layer_summary(stats_result.stats, 0, STATS_SPEC)
    assert s.mix_to_a == 0.0 and s.mix_to_b > 0 and s.position == 0.0
    s = sv.layer_summary(stats_result.stats, 5, STATS_SPEC)  # weight 1: B
    assert s.mix_to_b == 0.0 and s.position == 1.0


def test_channel_report_shows_exact_values(stats_result):
    text = sv.channel_report(stats_result.stats, 2, 3, STATS_SPEC)
    v = float(stats_result.stats["b"][2].y_b[0, 3])
    assert f"{v:.4f}" in text and "channel 3" in text


def test_colormap_ends_and_diverging_centre():
    lut = sv.colormap("viridis")
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert lut[0].tolist() == [0x44, 0x01, 0x54] and lut[-1].tolist() == [0xFD, 0xE7, 0x25]
    plane = np.array([[-2.0, 0.0, 2.0]], np.float32)
    rgb = sv.colorize(plane, -2.0, 2.0, "diverging")
    assert np.abs(rgb[0, 1].astype(int) - 0xF7).max() <= 2  # zero is near-white
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 2, 0] > rgb[0, 2, 2]  # negative blue, positive red
    assert sv.colorize(np.ones((2, 2)), 1.0, 1.0, "gray")[0, 0].tolist() == [128, 128, 128]
    with pytest.raises(ValueError):
        sv.colormap("jet")


def test_montage_matches_the_features(stats_renderer, stats_recipe, stats_result):
    _, maps = direct_stats(stats_renderer.G, stats_recipe)
    feats = stats_result.features
    np.testing.assert_allclose(feats, maps["mix"][5], rtol=1e-4, atol=1e-4)  # the features are layer 5's output
    c, h, _w = feats.shape
    lut = sv.colormap("gray")
    for norm in sv.NORMALISATIONS:
        order = np.arange(c)[::-1]
        m = sv.build_montage(feats, "gray", norm, order=order, scale=2, gap=1)
        assert m.tile == 2 * h and m.rows * m.cols >= c
        for i in (0, 1, c - 1):
            ch = int(order[i])
            f = maps["mix"][5][ch]
            lo, hi = (f.min(), f.max()) if norm == "channel" else (maps["mix"][5].min(), maps["mix"][5].max())
            want = lut[np.clip(((f - lo) / (hi - lo) * 255 + 0.5).astype(int), 0, 255)]
            want = want.repeat(2, 0).repeat(2, 1)
            top, left = m.tile_origin(i)
            got = m.image[top : top + m.tile, left : left + m.tile]
            # allow an off-by-one grey level where float32 and float64 round differently
            assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
            assert m.channel_at(left + 1, top + m.tile - 1) == ch
        assert m.channel_at(m.pitch - 1, 0) is None  # the gap
        if m.rows * m.cols > c:
            assert m.channel_at((m.cols - 1) * m.pitch, (m.rows - 1) * m.pitch) is None  # empty tail
    one = sv.channel_image(feats, 4, "gray", "channel", scale=3)
    m = sv.build_montage(feats, "gray", "channel", scale=3)
    top, left = m.tile_origin(4)
    assert np.array_equal(one, m.image[top : top + m.tile, left : left + m.tile])


def test_montage_rejects_wrong_shapes():
    with pytest.raises(ValueError):
        sv.build_montage(np.zeros((4, 4)))
    with pytest.raises(ValueError):
        sv.build_montage(np.zeros((2, 4, 4)), norm="global")


def test_montage_columns_fill_the_area():
    assert sv.montage_columns(16) == 5  # near square, a little wide
    assert sv.montage_columns(16, 64, 1, 480, 680) == 4  # 4 x 4 of 64 px fills a tall panel best
    assert sv.montage_columns(16, 64, 1, 2000, 100) == 16  # one row in a wide strip
    assert sv.montage_columns(128, 4, 1, 480, 300) in range(13, 17)  # wider than tall
    assert sv.montage_columns(1, 4, 1, 10, 10) == 1


def test_shrink_takes_block_means_of_large_maps_only():
    f = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    assert sv.shrink(f, 8) is not None and np.array_equal(sv.shrink(f, 8), f)
    s = sv.shrink(f, 4)
    assert s.shape == (2, 4, 4)
    assert s[1, 2, 3] == pytest.approx(f[1, 4:6, 6:8].mean())
    assert sv.shrink(np.zeros((1, 10, 10)), 4).shape == (1, 3, 3)  # factor 3, ragged edge dropped


def test_the_fixed_font_is_no_taller_per_line_than_the_interface_font(qapp):
    # Monospace fonts differ in line height (Noto Sans Mono 15% taller than DejaVu Sans Mono); the readouts and
    # axes are laid out for a small screen, so whichever one the system picks keeps the interface font's lines.
    from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication

    from stylemixer.gui.stats.style import fixed_font

    base = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).pointSizeF()
    for delta in (0, -1, -2):
        f = fixed_font(delta)
        ref = QFont(QGuiApplication.font())
        ref.setPointSizeF(max(6.0, base + delta))  # the interface font at the size asked for
        assert f.fixedPitch() or QFontMetricsF(f).horizontalAdvance("i") == QFontMetricsF(f).horizontalAdvance("m")
        assert QFontMetricsF(f).lineSpacing() <= 1.02 * QFontMetricsF(ref).lineSpacing() + 0.5
