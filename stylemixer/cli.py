"""The `stylemixer` command. No arguments: the desktop app. Subcommands run the same core functions."""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import math
import os
import re
import sys

from . import __version__
from .core.errors import StyleMixerError, printable

NO_REEXEC = "--no-reexec"  # a process-wide switch, taken out of the arguments before any parser sees them


def _mix_args(p, seeds: bool):
    if seeds:
        p.add_argument(
            "--seed-a", default="0", help="seed of A, 0 to 2^32-1; a fraction (3.25) interpolates w between seeds"
        )
        p.add_argument("--seed-b", default="1", help="seed of B")
        p.add_argument(
            "--latent-a",
            metavar="FILE[:KEY]",
            help="A from a latent file (.npz, .npy, .pt) instead of its seed (default: the seed)",
        )
        p.add_argument(
            "--latent-b", metavar="FILE[:KEY]", help="B from a latent file instead of its seed (default: the seed)"
        )
    p.add_argument("--mix", default="", help="e.g. coarse=A,middle=B,fine=B or 0-3=0,4-9=0.5 (unlisted: A)")
    p.add_argument("--psi", type=finite_float, default=None, help="truncation psi (default: the model's)")
    p.add_argument(
        "--cutoff", type=cutoff_arg, default=None, help="truncate w indices below this (default: the model's)"
    )
    p.add_argument("--noise", default="const", choices=("const", "random", "none"), help="per-layer noise")
    p.add_argument("--noise-seed", type=seed_arg, default=0, help="seed of the random noise")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (`stylemixer: error: ...`, status 2) like every other error."""

    def error(self, message):
        where = self.prog.partition(" ")[2]
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"stylemixer: error: {where + ': ' if where else ''}{message}{hint}\n")


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default; options without one say in their help what happens."""

    def _get_help_string(self, action):
        if action.default is None or action.default is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            return action.help
        return super()._get_help_string(action)


def _model_arg(p):
    p.add_argument("--model", default="builtin", help="model file, or 'builtin'")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, mps or auto")


def _picture_args(p, output: str, output_help: str):
    """What every command that renders pictures takes: its output, the enlargement, the model and the threads."""
    p.add_argument("--scale", type=int, default=1, help="nearest-neighbour enlargement factor")
    p.add_argument("-o", "--output", default=output, help=output_help)
    _model_arg(p)
    p.add_argument(
        "--threads",
        type=threads_arg,
        default=None,
        metavar="N|auto",
        help="CPU threads to render with: a count, or auto to measure while rendering (default: one per core)",
    )


# ---- argument types: a wrong value is reported at once, before any model is loaded -------------------------
def _whole_number(text: str, low: int, high: int | None = None, outside: str = "") -> int:
    """An argument that must be a whole number in [low, high] (high None: no upper bound)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < low or (high is not None and v > high):
        raise argparse.ArgumentTypeError(outside.format(v=v) or f"{v} is outside {low}-{high}")
    return v


def seed_arg(text: str) -> int:
    from .core.latents import MAX_SEED

    return _whole_number(text, 0, MAX_SEED)


def cutoff_arg(text: str) -> int:
    return _whole_number(text, 0, outside="{v} is negative")


def threads_arg(text: str) -> int | str:
    """--threads: a count, or `auto` (measured while rendering, core/threads.py)."""
    return "auto" if text == "auto" else _whole_number(text, 1, 1024, "{v} is outside 1-1024 (or auto)")


def finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise StyleMixerError(f"{what}: {text!r} is not a number") from None
    return int(v) if v.is_integer() and "." not in text else v


def _load(args, model):
    from .core.checkpoints import load_any
    from .core.devices import pick_device

    try:
        device = pick_device(args.device)
    except ValueError as e:
        raise StyleMixerError(str(e)) from None
    return load_any(model, device), device


def _recipe_from_args(args, G, source):
    """The mix described by --seed-a/-b (fractional allowed), --latent-a/-b, --mix, --psi, --cutoff, --noise."""
    from .core.latent_files import load_latent
    from .core.mixing import LatentSource, Recipe, parse_mix_spec

    weights = parse_mix_spec(args.mix, G) if args.mix else (0.0,) * G.num_ws
    psi = args.psi if args.psi is not None else G.cfg.truncation_psi
    cutoff = args.cutoff if args.cutoff is not None else G.cfg.truncation_cutoff
    recipe = Recipe(
        weights=weights, model=source, psi=psi, cutoff=cutoff, noise_mode=args.noise, noise_seed=args.noise_seed
    )
    for which in ("a", "b"):
        latent = getattr(args, f"latent_{which}", None)
        if latent:
            recipe = recipe.with_source(which, LatentSource(load_latent(latent, G.num_ws, G.w_dim)))
        else:
            recipe = recipe.with_source(which, _number(getattr(args, f"seed_{which}"), f"seed-{which}"))
    return recipe


def cmd_render(args) -> int:
    from .core.export import check_output_path, check_scale, load_recipe_file, save_png
    from .core.latent_files import save_latents
    from .core.mixing import seed_source, split_mix_spec
    from .core.render import Renderer
    from .core.stats import SOURCE_LABELS

    # Everything that can be checked without the model first: loading a large model takes seconds.
    check_scale(args.scale, 1, 1)  # the image's own size is checked when it is written
    if args.mix:
        split_mix_spec(args.mix)
    if not args.recipe:
        for which in ("a", "b"):
            if not getattr(args, f"latent_{which}", None):
                seed_source(_number(getattr(args, f"seed_{which}"), f"seed-{which}"), f"seed_{which}")
    out = args.output
    stem, ext = os.path.splitext(out)
    tags = [SOURCE_LABELS[s] for s in ("a", "b")] if args.write_ab else []  # out-A.png, out-B.png
    outputs = [out] + [f"{stem}-{tag}{ext or '.png'}" for tag in tags]
    for path in outputs + ([args.save_latents] if args.save_latents else []):
        check_output_path(path)
    if args.recipe:
        recipe = load_recipe_file(args.recipe)
        model = args.model if args.model_given else recipe.model
    else:
        model = args.model
    loaded, device = _load(args, model)
    G = loaded.G
    if not args.recipe:
        recipe = _recipe_from_args(args, G, loaded.source)
    if args.class_a is not None or args.class_b is not None:
        from dataclasses import replace

        recipe = replace(
            recipe,
            class_a=recipe.class_a if args.class_a is None else args.class_a,
            class_b=recipe.class_b if args.class_b is None else args.class_b,
        )
    recipe.check_model(G.num_ws, getattr(G, "c_dim", 0))
    renderer = Renderer(G, device, threads=args.threads)
    res = renderer.render(recipe)
    save_png(out, res.mix, recipe, scale=args.scale)
    if args.write_ab:
        # Each image carries its own recipe: A is every w index from A (weights 0), B every one from B.
        n = len(recipe.weights)
        for path, arr, weights in ((outputs[1], res.a, (0.0,) * n), (outputs[2], res.b, (1.0,) * n)):
            save_png(path, arr, recipe.with_weights(weights), scale=args.scale)
    written = list(outputs)
    if args.save_latents:
        ws_a, ws_b, ws_mix = (w.cpu().numpy()[0] for w in renderer.ws(recipe))
        save_latents(args.save_latents, {"a": ws_a, "b": ws_b, "mix": ws_mix}, recipe)
        written.append(args.save_latents)
    print(f"wrote {', '.join(written)} ({res.ms:.0f} ms on {res.device})")
    return 0


def _progress(label, done, total, t0):
    import time

    end = "\n" if done == total else ""
    print(f"\r{label} {done}/{total} ({time.perf_counter() - t0:.1f} s)", end=end, file=sys.stderr, flush=True)


def cmd_grid(args) -> int:
    import time
    from dataclasses import replace

    from .core.grid import Grid, check_fits, figure3, load_grid_file, parse_sources, render_grid, save_grid_png
    from .core.latent_files import load_latent
    from .core.render import Renderer

    grid = load_grid_file(args.recipe) if args.recipe else None
    model = args.model if (args.model_given or grid is None) else grid.recipe.model
    loaded, device = _load(args, model)
    G = loaded.G
    if grid is None:
        args.seed_a, args.seed_b = "0", "1"
        base = _recipe_from_args(args, G, loaded.source)
        if args.figure3:
            grid = figure3(base, G.layer_table())
        else:
            if not args.rows or not args.cols:
                raise StyleMixerError("grid: give --rows and --cols (seeds like 1,2,3 or 1-6), --figure3 or --recipe")

            def latent(spec):
                return load_latent(spec, G.num_ws, G.w_dim)

            grid = Grid(base, parse_sources(args.rows, "rows", latent), parse_sources(args.cols, "cols", latent))
        if args.figure3 and (args.rows or args.cols):
            grid = Grid(
                grid.recipe,
                parse_sources(args.rows, "rows") if args.rows else grid.rows,
                parse_sources(args.cols, "cols") if args.cols else grid.cols,
                grid.row_weights if not args.rows else (),
            )
    elif args.model_given:
        grid = replace(grid, recipe=replace(grid.recipe, model=loaded.source))
    grid.recipe.check_model(G.num_ws)
    sample = Renderer(G, device, threads=args.threads)
    h, w = _image_size(G)
    check_fits(grid, h, w, G.cfg.img_channels, args.scale, args.gap)
    t0 = time.perf_counter()
    R, C = grid.shape
    images = render_grid(sample, grid, on_cell=lambda r, c, res: _progress("cells", r * C + c + 1, R * C, t0))
    save_grid_png(args.output, images, scale=args.scale, gap=args.gap)
    print(f"wrote {args.output} ({R} x {C} cells in {images.ms / 1000:.2f} s on {device})")
    return 0


def _image_size(G):
    crop = getattr(G.cfg, "crop", None)
    if crop:
        return crop[1] - crop[0], crop[3] - crop[2]
    return G.cfg.resolution, G.cfg.resolution


def cmd_sweep(args) -> int:
    import time

    from .core.export import load_recipe_file
    from .core.render import Renderer
    from .core.sweep import Sweep, export_sweep, parse_control, sweep_from_file

    sweep = sweep_from_file(args.sweep) if args.sweep else None
    base = None
    if sweep is None and args.recipe:
        base = load_recipe_file(args.recipe)
    recorded = sweep.recipe.model if sweep else base.model if base else None
    model = args.model if (args.model_given or recorded is None) else recorded
    loaded, device = _load(args, model)
    G = loaded.G
    if sweep is None:
        from dataclasses import replace

        base = replace(base, model=loaded.source) if base else _recipe_from_args(args, G, loaded.source)
        control, indices = parse_control(args.control, G.layer_table())
        seeds = tuple(int(_number(s, "seeds")) for s in args.seeds.split(",")) if args.seeds else ()
        start = args.start if args.start is not None else _default_start(control, base)
        end = args.end if args.end is not None else _default_end(control, base, start)
        sweep = Sweep(base, control, start, end, args.frames, indices, seeds, args.pingpong, args.fps)
    sweep.recipe.check_model(G.num_ws)
    t0 = time.perf_counter()
    export_sweep(
        Renderer(G, device, threads=args.threads),
        sweep,
        args.output,
        scale=args.scale,
        progress=lambda d, n: _progress("frames", d, n, t0),
    )
    print(f"wrote {args.output} ({sweep.label()}, {time.perf_counter() - t0:.1f} s on {device})")
    return 0


def cmd_latents(args) -> int:
    from .core.grid import parse_sources
    from .core.latent_files import save_latents

    loaded, device = _load(args, args.model)
    G = loaded.G
    psi = args.psi if args.psi is not None else G.cfg.truncation_psi
    cutoff = args.cutoff if args.cutoff is not None else G.cfg.truncation_cutoff
    seeds = parse_sources(args.seeds, "seeds")
    arrays = {f"seed_{_source_name(s)}": s.ws(G, psi, cutoff, device).float().cpu().numpy()[0] for s in seeds}
    save_latents(args.output, arrays, kind=args.kind)
    print(f"wrote {args.output} ({len(arrays)} {'W' if args.kind == 'w' else 'W+'} latents: {', '.join(arrays)})")
    return 0


def _source_name(s) -> str:
    return str(s.seed) if s.frac == 0 else f"{s.seed + s.frac:g}"


def _default_start(control, base):
    return {"psi": 1.0, "seed_a": base.seed_a + base.frac_a, "seed_b": base.seed_b + base.frac_b}.get(control, 0.0)


def _default_end(control, base, start):
    return {"psi": 0.0, "seed_a": start + 1, "seed_b": start + 1}.get(control, 1.0)


def cmd_info(args) -> int:
    from .core.checkpoints import load_any

    loaded = load_any(args.model, "cpu")
    G, cfg = loaded.G, loaded.G.cfg
    params = sum(p.numel() for p in G.parameters())
    if args.json:
        print(
            json.dumps(
                {
                    "name": loaded.name,
                    "format": loaded.format,
                    "family": G.family,
                    "config": cfg.to_dict(),
                    "parameters": params,
                    "layers": [vars(info) for info in G.layer_table()],
                },
                indent=1,
            )
        )
        return 0
    print(f"{printable(loaded.name)}  ({G.family_label}, {printable(loaded.format)})")
    print(f"  resolution {G.img_resolution}x{G.img_resolution}, {cfg.img_channels} channels, num_ws {G.num_ws}")
    print(f"  z_dim {G.z_dim}, w_dim {G.w_dim}" + (f", {G.c_dim} classes" if G.c_dim else ""))
    print(f"  parameters {params:,}")
    print(f"  default truncation psi {cfg.truncation_psi}, cutoff {cfg.truncation_cutoff}")
    print(f"  {'w':>3}  {'res':>5}  {'ch':>4}  {'layer':<22} {'group':<7} role")
    for info in G.layer_table():
        print(
            f"  {info.index:>3}  {info.resolution:>5}  {info.channels:>4}  {info.name:<22} {info.group:<7} {info.role}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = OneLineErrorParser(
        prog="stylemixer",
        description="Explore style mixing in StyleGAN generators. "
        "Run without a command to open the desktop app (`stylemixer [FILE] [--model M] "
        "[--device D] [--dark]`).",
    )
    p.add_argument("--version", action="version", version=f"stylemixer {__version__}")
    p.add_argument(
        NO_REEXEC,
        action="store_true",
        help="do not restart once with the allocator settings for large models (Linux; docs/environment.md); "
        "allowed before or after any command",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser(
        "render", help="render a style mix to a PNG (the recipe is embedded in it)", formatter_class=DefaultsHelp
    )
    _mix_args(r, seeds=True)
    r.add_argument(
        "--recipe",
        help="a recipe JSON, or a PNG written by StyleMixer, to render again (default: a recipe from the options here)",
    )
    r.add_argument("--class-a", type=int, default=None, help="class of A (conditional models; default 0)")
    r.add_argument("--class-b", type=int, default=None, help="class of B (conditional models; default 0)")
    r.add_argument(
        "--write-ab", action="store_true", help="also write OUT-A.png and OUT-B.png, each with its own recipe"
    )
    r.add_argument(
        "--save-latents", metavar="NPZ", help="also write the ws of A, B and the mix (.npz; default: not written)"
    )
    _picture_args(r, "mix.png", "the PNG to write")
    r.set_defaults(func=cmd_render)

    g = sub.add_parser("grid", help="a style-mixing grid: row seeds (A) x column seeds (B), as one PNG")
    g.add_argument("--rows", help="destination seeds (A), e.g. 1,2,3 or 1-6 (latent files allowed)")
    g.add_argument("--cols", help="source seeds (B): each cell takes the --mix indices from its column")
    g.add_argument("--figure3", action="store_true", help="the StyleGAN paper's Figure 3 layout and seeds")
    _mix_args(g, seeds=False)
    g.add_argument("--recipe", help="a grid PNG or grid JSON written by StyleMixer, to render again")
    g.add_argument("--gap", type=int, default=2, help="pixels between cells (default 2)")
    _picture_args(g, "grid.png", "the PNG to write")
    g.set_defaults(func=cmd_grid)

    lt = sub.add_parser("latents", help="write the ws of seeds to an .npz (keys seed_N; W+ also stacked as w)")
    lt.add_argument("--seeds", required=True, help="e.g. 1,2,3 or 1-6; a fraction (3.5) interpolates")
    lt.add_argument("--psi", type=float, default=None, help="truncation psi (default: the model's)")
    lt.add_argument("--cutoff", type=int, default=None, help="truncate w indices below this")
    lt.add_argument(
        "--kind",
        choices=("w+", "w"),
        default="w+",
        help="w+: [1, num_ws, w_dim] per seed (default); w: one [w_dim] per seed",
    )
    lt.add_argument("-o", "--output", default="latents.npz")
    _model_arg(lt)
    lt.set_defaults(func=cmd_latents)

    w = sub.add_parser("sweep", help="animate one control over N frames to a GIF or MP4 (recipe embedded)")
    _mix_args(w, seeds=True)
    w.add_argument("--recipe", help="start from this recipe JSON or StyleMixer PNG")
    w.add_argument("--sweep", help="a GIF, MP4 or sweep JSON written by StyleMixer, to render again")
    w.add_argument(
        "--control",
        default="all",
        help="what moves: w<k>, a range like 0-3, coarse, middle, fine, all (weights), psi, seed-a, "
        "seed-b or walk (default: all)",
    )
    w.add_argument("--from", dest="start", type=float, default=None, help="first value (weights: 0, psi: 1)")
    w.add_argument("--to", dest="end", type=float, default=None, help="last value (weights: 1, psi: 0)")
    w.add_argument("--seeds", help="walk: the seeds visited, e.g. 1,7,42")
    w.add_argument("--frames", type=int, default=30)
    w.add_argument("--fps", type=float, default=25.0)
    w.add_argument("--pingpong", action="store_true", help="forward, then back again (loops smoothly)")
    _picture_args(w, "sweep.gif", ".gif or .mp4")
    w.set_defaults(func=cmd_sweep)

    i = sub.add_parser("info", help="architecture, parameter count and layer table of a model")
    i.add_argument("model", nargs="?", default="builtin")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    _bench_parser(sub)
    for modname in ("stylemixer.core.checkpoints.commands", "stylemixer.training.commands"):
        try:
            mod = __import__(modname, fromlist=["register"])
        except ImportError as e:
            if e.name is None or not modname.startswith(e.name):
                raise  # a real import problem inside the module, not an absent optional part
            continue
        mod.register(sub)
    return p


def _bench_parser(sub):
    """`stylemixer bench`: its arguments here, its code (stylemixer/benchmarks) imported only when it runs."""
    p = sub.add_parser(
        "bench",
        help="time rendering with and without caches; writes a JSON report",
        description="Times the built-in model and the official 1024 px StyleGAN shape (about a minute "
        "or two on a 2-core CPU; much less on a GPU); --family adds StyleGAN2 and StyleGAN3 sections (minutes each). "
        "--quick is a smoke test of the same code in under half a minute whose figures mean little.",
    )
    p.add_argument("--model", default="builtin", help="the small model to time (default: the built-in one)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.add_argument(
        "--family",
        default="stylegan",
        help="sections, comma-separated: stylegan (the built-in model, the official 1024 px StyleGAN shape and "
        "the app's start; default: stylegan), stylegan2 (config F: full synthesis, resume per w index, previews "
        "per second while dragging; 2-4 minutes), stylegan3-t, stylegan3-r (a full frame, resume at w 0 and "
        "12-15, the filtered lrelu's share; 2-5 minutes each), or all",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test of the same code in under half a minute "
        "on 2 cores (narrow 64 px stand-ins for the official "
        "shapes, 3 frames each); its figures mean little",
    )
    p.add_argument("--frames", type=int, default=None, help="frames per scenario (default 15, quick 3)")
    p.add_argument("--reps", type=int, default=None, help="repetitions of the big model's timings (default 3)")
    p.add_argument(
        "--big-resolution", type=int, default=None, help="size of the official shapes, every family (default 1024)"
    )
    p.add_argument("--no-big", action="store_true", help="skip the official StyleGAN shape")
    p.add_argument("--no-launch", action="store_true", help="skip timing the app's start")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", default="bench.json", help="write the report here ('' for none)")
    p.add_argument("--silent", action="store_true", help="only the final table")

    def cmd_bench(args):
        from .benchmarks.bench import cmd_bench as run_bench

        return run_bench(args)

    p.set_defaults(func=cmd_bench)


def end_startup_gc():
    """After the start-up imports: keep what they made out of every later collection, and collect again.
    Only where an entry point turned collection off (`main`), never in a library caller's process."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _subcommands(parser) -> set:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def unknown_command(word: str, commands) -> str | None:
    """The error line for a first argument that reads like a mistyped command rather than a file to open."""
    if word.startswith("-") or word in commands or os.path.exists(word):
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", word):  # a dot or a slash: a file name (which may be missing)
        return None
    close = difflib.get_close_matches(word, sorted(commands), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"stylemixer: error: unknown command {word!r}{hint}; commands: {', '.join(sorted(commands))}. "
        f"`stylemixer FILE` opens an existing file in the app"
    )


def _start_app(argv) -> int:
    """The desktop app, unless the machine cannot show it: then one line and status 2 (before Qt is imported,
    which would end in a traceback or a core dump)."""
    from . import startup

    wants_help = any(a in ("-h", "--help", "--version") for a in argv)
    problem = None if wants_help else startup.check()
    if problem:
        print(problem, file=sys.stderr)
        return startup.EXIT_STATUS
    try:
        from .gui.app import main as gui_main
    except ImportError as e:
        line = startup.qt_import_error(e)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return startup.EXIT_STATUS
    return gui_main(argv)


def main(argv=None) -> int:
    """The command line; returns the exit status. Process-wide start-up (collection off while importing, the
    re-exec with the allocator settings) happens only for the real command line (argv None), never for a
    caller that passes its own argv (the tests run commands in-process this way)."""
    real = argv is None
    argv = list(sys.argv[1:] if real else argv)
    # --no-reexec belongs to the process, not to a command: accepted anywhere before `--`, then dropped.
    end = argv.index("--") if "--" in argv else len(argv)
    no_reexec = NO_REEXEC in argv[:end]
    argv = [a for a in argv[:end] if a != NO_REEXEC] + argv[end:]
    if real:
        # No garbage collection while starting: importing torch and Qt makes hundreds of thousands of objects
        # that live as long as the process, and the collections run over them cost ~10% of the start-up.
        # Re-enabled (with those objects frozen out of later collections) once the imports are done.
        gc.disable()
        from .core.perf import passive_openmp_wait, reexec_with_huge_pages

        passive_openmp_wait()  # before torch is imported, re-executed or not (core/perf.py)
        if not no_reexec:
            reexec_with_huge_pages()  # big activations on huge pages (core/perf.py)
    parser = build_parser()
    commands = _subcommands(parser)
    if argv and argv[0] == "--version":
        print(f"stylemixer {__version__}")
        return 0
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        error = unknown_command(argv[0], commands) if argv else None
        if error:
            print(error, file=sys.stderr)
            return 2
        # `stylemixer`, `stylemixer FILE`, `stylemixer --model X --dark ...`: the app takes these arguments
        return _start_app(argv)
    end_startup_gc()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a usage error (its line is printed) or --help: the status, not an exception
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    args.model_given = "--model" in argv
    try:
        return int(args.func(args) or 0)
    except StyleMixerError as e:
        return _error(str(e))
    except OSError as e:  # a file a command had to read or write (a full disk, a vanished folder)
        where = f"{os.path.basename(os.fsdecode(e.filename))}: " if e.filename else ""
        return _error(f"{where}{e.strerror or e}")
    except MemoryError:
        return _error("out of memory")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `stylemixer info | head`: the reader went away; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _error(text: str) -> int:
    """One line on stderr, whatever the text holds: escapes stop a file's text from driving the terminal."""
    print(f"stylemixer: error: {printable(text, 1000)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
