"""StyleGAN3's filtered leaky ReLU: bias, upsample, leaky ReLU, clamp, downsample, in plain torch.

For every channel of x [N, C, H, W] (Karras et al. 2021, Appendix C; NVIDIA's `filtered_lrelu`):
    1. add the channel's bias
    2. upsample by `up`: insert up-1 zeros after every sample, pad (padding = [x0, x1, y0, y1], negative crops),
       convolve with the up filter `fu` (1-D, applied along x then y) and multiply by up^2
    3. y = clamp(lrelu(y, slope) * gain, -clamp, clamp)
    4. convolve with the down filter `fd` (1-D separable, or 2-D for StyleGAN3-R's radial filters) and keep
       every `down`-th sample
so the output has ((W * up + x0 + x1 - (len(fu) - 1) - (len(fd) - 1) + down - 1) // down) columns.

`filtered_lrelu_ref` is that definition written out (zero insertion, then full FIR convolutions on the
upsampled image), the same computation as NVIDIA's CPU reference path. `filtered_lrelu` computes the same
numbers without its waste:
- Upsampling is a depthwise transposed convolution (stride `up`): it multiplies only the real samples, never
  the inserted zeros (the polyphase form), and the padding becomes an offset into its output.
- Downsampling is a depthwise convolution with stride `down`: only the kept samples are computed.
- The positive gain is folded into the up filter (lrelu(g * y) = g * lrelu(y) for g > 0), saving a pass.
- Everything runs in horizontal strips of output rows (~8 MB of upsampled rows each) with reused row windows,
  so nothing is computed twice and the working set stays in the cache: at 1024 px the upsampled image is
  0.5-3 GB, and streaming it through memory four times (and faulting it in fresh) cost more than the
  arithmetic. `FilteredLReLU.rows` takes its input rows from a function, so the layer's convolution runs
  strip by strip too and its full-size output never exists.
- channels_last, where oneDNN's depthwise convolutions are several times faster than on NCHW tensors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

STRIP_BYTES = 8 << 20  # target size of the rows one strip reads (measured best at 4-16 MB: about L3)


def filtered_lrelu_ref(
    x: torch.Tensor,
    fu: torch.Tensor | None = None,
    fd: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = 2**0.5,
    slope: float = 0.2,
    clamp: float | None = None,
) -> torch.Tensor:
    """The straightforward formula: x [N, C, H, W] -> [N, C, H', W']. Slow and memory-hungry; for checking."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = padding
    if b is not None:
        x = x + b.to(x.dtype)[None, :, None, None]
    # Zero insertion: [N, C, H, 1, W, 1] -> pad -> [N, C, H*up, W*up].
    x = x.reshape(n, c, h, 1, w, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = _pad_or_crop(x, px0, px1, py0, py1)
    x = _fir(x, fu, gain=up**2)
    x = F.leaky_relu(x, slope) * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    x = _fir(x, fd, gain=1)
    return x[:, :, ::down, ::down]


def _pad_or_crop(x: torch.Tensor, x0: int, x1: int, y0: int, y1: int) -> torch.Tensor:
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    return x[:, :, max(-y0, 0) : x.shape[2] - max(-y1, 0), max(-x0, 0) : x.shape[3] - max(-x1, 0)]


def _fir(x: torch.Tensor, f: torch.Tensor | None, gain: float) -> torch.Tensor:
    """Valid (no padding) convolution of every channel with f: [T] along x then y, or [T, T]."""
    if f is None:
        return x * gain if gain != 1 else x
    c = x.shape[1]
    f = f.to(x.dtype).flip(list(range(f.ndim)))  # conv2d correlates; the FIR definition convolves
    if f.ndim == 1:
        g = gain**0.5
        x = F.conv2d(x, (f * g)[None, None, None, :].expand(c, 1, 1, -1), groups=c)
        return F.conv2d(x, (f * g)[None, None, :, None].expand(c, 1, -1, 1), groups=c)
    return F.conv2d(x, (f * gain)[None, None].expand(c, 1, -1, -1), groups=c)


@dataclass(frozen=True)
class Axis:
    """Where the samples of one axis come from.

    The upsampled, padded, filtered signal u[m] (m in [0, n_tmp)) equals sample m + off of the full transposed
    convolution (stride up, filter fu) of the input after `pad_lo` / `pad_hi` zero samples were added; the
    pads are needed only when the requested padding reaches beyond what the transposed convolution covers.
    """

    n_in: int
    up: int
    down: int
    tu: int
    td: int
    pad_lo: int
    pad_hi: int
    off: int
    n_tmp: int
    n_out: int

    @staticmethod
    def plan(n_in: int, up: int, down: int, tu: int, td: int, p0: int, p1: int) -> Axis:
        n_tmp = n_in * up + p0 + p1 - (tu - 1)
        n_out = (n_tmp - (td - 1) + down - 1) // down
        if n_tmp < td or n_out < 1:
            raise ValueError(f"filtered lrelu: padding ({p0}, {p1}) leaves no output for {n_in} input samples")
        off = tu - 1 - p0
        pad_lo = (-off + up - 1) // up if off < 0 else 0
        off += pad_lo * up
        n_pad = n_in + pad_lo
        # The last sample needed, off + n_tmp - 1, must be < (n_pad + pad_hi - 1) * up + tu.
        need = off + n_tmp - tu
        pad_hi = max(0, -(-need // up) + 1 - n_pad)
        return Axis(n_in, up, down, tu, td, pad_lo, pad_hi, off, n_tmp, n_out)


_scratch = threading.local()


def scratch(numel: int, device: torch.device, dtype: torch.dtype, part: int = 0) -> torch.Tensor:
    """A reused 1-D buffer of at least `numel` elements (one per thread, device, dtype and part).

    The strips' row windows are tens of MB at 1024 px; allocated afresh for every layer, the kernel must
    zero and fault in every page of them again (measured: tens to hundreds of ms per frame, more while other
    processes fragment memory). Kept here, they cost that once. `release_scratch()` frees them.
    """
    pool = getattr(_scratch, "pool", None)
    if pool is None:
        pool = _scratch.pool = {}
    # A buffer made under inference_mode cannot be written outside it (a library call after the renderer ran).
    key = (str(device), dtype, part, torch.is_inference_mode_enabled())
    buf = pool.get(key)
    if buf is None or buf.numel() < numel:
        pool.pop(key, None)
        buf = pool[key] = torch.empty(numel, device=device, dtype=dtype)
    return buf


def release_scratch() -> None:
    """Free this thread's scratch buffers."""
    _scratch.pool = {}


class _Rows:
    """Consecutive rows [lo, hi) of a [1, C, *, W] channels_last image, kept in one reused buffer."""

    def __init__(self, c: int, w: int, cap: int, device: torch.device, dtype: torch.dtype, part: int) -> None:
        flat = scratch(c * cap * w, device, dtype, part)[: c * cap * w]
        self.buf = flat.view(1, cap, w, c).permute(0, 3, 1, 2)  # [1, C, cap, W], channels_last strides
        self.lo = self.hi = 0

    def extend(self, start: int, count: int, keep_from: int) -> torch.Tensor:
        """The view to write rows [start, start + count) into, keeping rows >= keep_from readable."""
        cap = self.buf.shape[2]
        if start != self.hi:  # not a continuation: start a new window
            self.lo = self.hi = start
        keep_from = min(max(keep_from, self.lo), self.hi)
        if start + count - self.lo > cap:  # move the rows still needed to the front
            n, src = self.hi - keep_from, keep_from - self.lo
            if n:
                rows = self.buf[:, :, src : src + n]
                self.buf[:, :, :n] = rows if src >= n else rows.clone()  # .clone() only when they overlap
            self.lo = keep_from
        if start + count - self.lo > cap:
            raise RuntimeError("filtered lrelu: row window too small")
        self.hi = start + count
        return self.rows(start, self.hi)

    def rows(self, a: int, b: int) -> torch.Tensor:
        return self.buf[:, :, a - self.lo : b - self.lo]

    def flat(self, a: int, b: int) -> torch.Tensor:
        """Rows [a, b) as a [b - a, W * C] matrix (a view: channels_last rows are contiguous)."""
        return self.rows(a, b).permute(0, 2, 3, 1).reshape(b - a, -1)


class FilteredLReLU:
    """A planned filtered leaky ReLU for one layer's geometry (fixed input size, filters, padding).

    On the CPU it runs in strips of output rows with two reused row windows (the horizontally upsampled input
    rows and the activated upsampled rows), so nothing is computed twice and the working set stays in the
    cache; the vertical upsampling of a strip is one small matrix product. Elsewhere (CUDA) the whole image
    goes through the same filters at once.
    """

    def __init__(
        self,
        in_size: Sequence[int],
        up_taps: int,
        down_taps: int,
        up: int,
        down: int,
        padding: Sequence[int],
        gain: float,
        slope: float,
        clamp: float | None,
        radial: bool = False,
    ) -> None:
        if not gain > 0:
            raise ValueError("the gain of a filtered lrelu must be positive")
        px0, px1, py0, py1 = (int(p) for p in padding)
        self.ax = Axis.plan(int(in_size[1]), up, down, up_taps, down_taps, px0, px1)
        self.ay = Axis.plan(int(in_size[0]), up, down, up_taps, down_taps, py0, py1)
        self.up, self.down, self.gain, self.slope = int(up), int(down), float(gain), float(slope)
        self.clamp = None if clamp is None else float(clamp)
        self.radial = bool(radial) and down_taps > 1
        self.identity = (
            up_taps == 1 and down_taps == 1 and up == 1 and down == 1 and (px0, px1, py0, py1) == (0, 0, 0, 0)
        )
        self._kernels: tuple[tuple | None, tuple | None] = (None, None)  # (key, kernels)
        self._mats: dict[tuple[int, int, int], torch.Tensor] = {}

    def check_filters(self, fu: torch.Tensor | None, fd: torch.Tensor | None) -> None:
        """The filters must have the taps this geometry was planned for."""
        want_u = () if self.ax.tu == 1 else (self.ax.tu,)
        want_d = () if self.ax.td == 1 else ((self.ax.td, self.ax.td) if self.radial else (self.ax.td,))
        got_u = () if fu is None else tuple(fu.shape)
        got_d = () if fd is None else tuple(fd.shape)
        if got_u != want_u or got_d != want_d:
            raise ValueError(
                f"filters of shape {got_u or None} / {got_d or None}, planned for {want_u or None} / {want_d or None}"
            )

    @property
    def out_size(self) -> tuple[int, int]:
        return self.ay.n_out, self.ax.n_out

    def _taps_up(self, fu: torch.Tensor | None) -> torch.Tensor:
        """The up filter with both gains folded in: up per axis, and sqrt(gain) per axis since
        lrelu(g * y) = g * lrelu(y) for g > 0 (the clamp comes after the gain either way)."""
        f = torch.ones(1, dtype=torch.float64) if fu is None else fu.detach().cpu().double()
        return f * self.up * self.gain**0.5

    def kernels(
        self, fu: torch.Tensor | None, fd: torch.Tensor | None, c: int, device: torch.device, dtype: torch.dtype
    ) -> tuple:
        """Depthwise kernels for c channels, made once per (filters, c, device, dtype)."""
        key = (c, device, dtype) + tuple(None if f is None else (f.data_ptr(), f._version, f.device) for f in (fu, fd))
        if self._kernels[0] != key:
            fuu = self._taps_up(fu).to(device, dtype)
            kx = fuu[None, None, None, :].expand(c, 1, 1, -1).contiguous()
            ky = fuu[None, None, :, None].expand(c, 1, -1, 1).contiguous()
            if fd is None:
                one = torch.ones(c, 1, 1, 1, device=device, dtype=dtype)
                kd: tuple[torch.Tensor, ...] = (one, one)
            elif self.radial:
                f = fd.detach().cpu().double().flip(0, 1).to(device, dtype)  # conv2d correlates: flip
                kd = (f[None, None].expand(c, 1, -1, -1).contiguous(),)
            else:
                f = fd.detach().cpu().double().flip(0).to(device, dtype)
                kd = (
                    f[None, None, :, None].expand(c, 1, -1, 1).contiguous(),
                    f[None, None, None, :].expand(c, 1, 1, -1).contiguous(),
                )
            self._kernels = (key, (kx, ky, kd, self._taps_up(fu)))
            self._mats = {}
        kernels = self._kernels[1]
        assert kernels is not None
        return kernels

    def _up_matrix(
        self, taps: torch.Tensor, shift: int, rows: int, cols: int, device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """[rows, cols]: upsampled row r (of a strip) from input row j: taps[shift + r - j * up]."""
        key = (shift, rows, cols)
        m = self._mats.get(key)
        if m is None:
            idx = shift + torch.arange(rows)[:, None] - torch.arange(cols)[None, :] * self.ay.up
            ok = (idx >= 0) & (idx < len(taps))
            m = torch.where(ok, taps[idx.clamp(0, len(taps) - 1)], torch.zeros((), dtype=torch.float64))
            m = self._mats[key] = m.to(device, dtype)
        return m

    def __call__(
        self,
        x: torch.Tensor,
        fu: torch.Tensor | None = None,
        fd: torch.Tensor | None = None,
        b: torch.Tensor | None = None,
        strip_bytes: int = STRIP_BYTES,
        strips: bool | None = None,
    ) -> torch.Tensor:
        """x [N, C, H, W] (a fresh tensor: the bias is added in place) -> [N, C, H', W'] channels_last.

        fu: the up filter [taps] or None; fd: the down filter [taps], [taps, taps] (radial) or None.

        strips: run in strips (default: on the CPU, unless autograd needs the graph). Both ways give the same
        numbers up to float rounding; for one device the choice is fixed, so repeated runs are bit-identical.
        """
        n, c, h, w = x.shape
        if (h, w) != (self.ay.n_in, self.ax.n_in):
            raise ValueError(f"filtered lrelu planned for {self.ay.n_in}x{self.ax.n_in} inputs, got {h}x{w}")
        if b is not None:
            x = x.add_(b.to(x.dtype)[None, :, None, None])
        if self.identity:
            if self.slope != 1:
                x = F.leaky_relu_(x, self.slope)
            if self.gain != 1:
                x = x.mul_(self.gain)
            return x.clamp_(-self.clamp, self.clamp) if self.clamp is not None else x
        ax, ay = self.ax, self.ay
        x = x.contiguous(memory_format=torch.channels_last)
        if ax.pad_lo or ax.pad_hi or ay.pad_lo or ay.pad_hi:
            x = F.pad(x, [ax.pad_lo, ax.pad_hi, ay.pad_lo, ay.pad_hi]).contiguous(memory_format=torch.channels_last)
        if strips is None:
            strips = x.device.type == "cpu"
        if torch.is_grad_enabled() and (x.requires_grad or any(t is not None and t.requires_grad for t in (fu, fd))):
            strips = False  # the strips write into reused buffers, which autograd cannot follow
        self.check_filters(fu, fd)
        k = self.kernels(fu, fd, c, x.device, x.dtype)
        if not strips:
            return self._whole(x, k)

        def image_rows(i: int) -> Callable[[int, int], torch.Tensor]:
            return lambda r0, r1: x[i : i + 1, :, r0:r1]

        outs = [self._strips(image_rows(i), c, x.device, x.dtype, k, strip_bytes) for i in range(n)]
        return outs[0] if n == 1 else torch.cat(outs)

    def use_strips(self, x: torch.Tensor) -> bool:
        """Whether `rows` may be used for x (one image on the CPU, no autograd graph needed)."""
        return (
            x.shape[0] == 1
            and x.device.type == "cpu"
            and not self.identity
            and not (torch.is_grad_enabled() and x.requires_grad)
        )

    def rows(
        self,
        source: Callable[[int, int], torch.Tensor],
        c: int,
        device: torch.device,
        dtype: torch.dtype,
        fu: torch.Tensor | None = None,
        fd: torch.Tensor | None = None,
        strip_bytes: int = STRIP_BYTES,
    ) -> torch.Tensor:
        """The filtered lrelu of one image whose input (bias included) is produced on demand, in strips:
        source(r0, r1) -> rows [r0, r1) of the input [1, C, r1 - r0, W] channels_last, r in [0, H) (the
        modulated convolution computes them, so its full-size output never exists). -> [1, C, H', W']."""
        self.check_filters(fu, fd)
        k = self.kernels(fu, fd, c, device, dtype)
        ax, ay = self.ax, self.ay
        if ax.pad_lo or ax.pad_hi or ay.pad_lo or ay.pad_hi:  # geometries whose padding the conv can't reach
            inner = source

            def source(r0: int, r1: int) -> torch.Tensor:
                lo, hi = max(r0 - ay.pad_lo, 0), min(r1 - ay.pad_lo, ay.n_in)
                t = inner(lo, hi) if hi > lo else torch.zeros(1, c, 0, ax.n_in, device=device, dtype=dtype)
                pads = [ax.pad_lo, ax.pad_hi, lo + ay.pad_lo - r0, r1 - (hi + ay.pad_lo)]
                return F.pad(t, pads).contiguous(memory_format=torch.channels_last)

        return self._strips(source, c, device, dtype, k, strip_bytes)

    def _activate(self, t: torch.Tensor) -> torch.Tensor:
        if self.slope != 1:
            t = F.leaky_relu_(t, self.slope)
        if self.clamp is not None:
            t = t.clamp_(-self.clamp, self.clamp)
        return t

    def _down(self, t: torch.Tensor, kd: tuple) -> torch.Tensor:
        c = t.shape[1]
        if self.radial:
            return F.conv2d(t, kd[0], stride=self.down, groups=c)
        t = F.conv2d(t, kd[0], stride=(self.ay.down, 1), groups=c)
        return F.conv2d(t, kd[1], stride=(1, self.ax.down), groups=c)

    def _whole(self, x: torch.Tensor, k: tuple) -> torch.Tensor:
        """All rows at once: transposed convolutions for both upsampling passes."""
        c = x.shape[1]
        ax, ay = self.ax, self.ay
        kx, ky, kd, _ = k
        ncols = (ax.n_out - 1) * ax.down + ax.td
        nrows = (ay.n_out - 1) * ay.down + ay.td
        t = F.conv_transpose2d(x, kx, stride=(1, ax.up), groups=c)[:, :, :, ax.off : ax.off + ncols]
        t = F.conv_transpose2d(t, ky, stride=(ay.up, 1), groups=c)[:, :, ay.off : ay.off + nrows]
        return self._down(self._activate(t), kd)

    def _strips(
        self,
        source: Callable[[int, int], torch.Tensor],
        c: int,
        device: torch.device,
        dtype: torch.dtype,
        k: tuple,
        strip_bytes: int,
    ) -> torch.Tensor:
        """One image, in strips of output rows; source(r0, r1) gives rows of the padded input."""
        ax, ay = self.ax, self.ay
        n_rows = ay.n_in + ay.pad_lo + ay.pad_hi
        kx, _, kd, taps = k
        # All input columns go through the horizontal pass (a few more than needed): a column slice would make
        # every strip non-contiguous, and oneDNN then copies it for each transposed convolution.
        fx = ax.off
        ncols = (ax.n_out - 1) * ax.down + ax.td
        out = torch.empty(1, c, ay.n_out, ax.n_out, device=device, dtype=dtype, memory_format=torch.channels_last)
        row_bytes = ncols * c * out.element_size()
        step = max(1, min(ay.n_out, (strip_bytes // row_bytes) // ay.down))  # output rows per strip
        new_tmp = step * ay.down
        new_in = -(-new_tmp // ay.up) + 1
        tu_in = -(-ay.tu // ay.up) + 1
        # Room for several strips, so the rows still needed move to the front only every few strips.
        up_rows = _Rows(c, ncols, 2 * tu_in + 4 * new_in + 2, device, dtype, part=0)
        act_rows = _Rows(c, ncols, 2 * ay.td + 4 * new_tmp, device, dtype, part=1)
        for o0 in range(0, ay.n_out, step):
            o1 = min(ay.n_out, o0 + step)
            a_lo, a_hi = o0 * ay.down, (o1 - 1) * ay.down + ay.td  # activated rows this strip reads
            a_new = max(a_lo, act_rows.hi)  # ... of which not yet computed
            t0, t1 = a_new + ay.off, a_hi + ay.off  # their transposed-conv rows
            i0 = max(0, -(-(t0 - ay.tu + 1) // ay.up))
            i1 = min(n_rows, (t1 - 1) // ay.up + 1)
            if i1 > up_rows.hi:  # horizontally upsample new input rows
                r0 = max(i0, up_rows.hi)
                u = F.conv_transpose2d(source(r0, i1), kx, stride=(1, ax.up), groups=c)
                up_rows.extend(r0, i1 - r0, keep_from=i0).copy_(u[:, :, :, fx : fx + ncols])
            m = self._up_matrix(taps, t0 - i0 * ay.up, a_hi - a_new, i1 - i0, device, dtype)
            dst = act_rows.extend(a_new, a_hi - a_new, keep_from=a_lo)
            torch.matmul(m, up_rows.flat(i0, i1), out=dst.permute(0, 2, 3, 1).reshape(a_hi - a_new, -1))
            self._activate(act_rows.rows(a_new, a_hi))
            out[:, :, o0:o1] = self._down(act_rows.rows(a_lo, a_hi), kd)
        return out
