"""The `stylemixer` command. No arguments: the desktop app. Subcommands run the same core functions."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .core.errors import StyleMixerError, printable


def _model_arg(p):
    p.add_argument("--model", default="builtin", help="model file, or 'builtin' (default)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, mps or auto (default)")


def cmd_render(args) -> int:
    from .core.checkpoints import load_any
    from .core.devices import pick_device
    from .core.export import check_scale, load_recipe_file, save_png
    from .core.mixing import Recipe, parse_mix_spec
    from .core.render import Renderer

    check_scale(args.scale, 1, 1)  # before the model loads; the image's own size is checked when it is written
    if args.recipe:
        recipe = load_recipe_file(args.recipe)
        model = args.model if args.model_given else recipe.model
    else:
        model = args.model
    try:
        device = pick_device(args.device)
    except ValueError as e:
        raise StyleMixerError(str(e)) from None
    loaded = load_any(model, device)
    G = loaded.G
    if not args.recipe:
        weights = parse_mix_spec(args.mix, G.cfg) if args.mix else (0.0,) * G.num_ws
        psi = args.psi if args.psi is not None else G.cfg.truncation_psi
        cutoff = args.cutoff if args.cutoff is not None else G.cfg.truncation_cutoff
        recipe = Recipe(weights=weights, seed_a=args.seed_a, seed_b=args.seed_b, model=loaded.source, psi=psi,
                        cutoff=cutoff, noise_mode=args.noise, noise_seed=args.noise_seed)
    recipe.check_model(G.num_ws)
    res = Renderer(G, device).render(recipe)
    out = args.output
    save_png(out, res.mix, recipe, scale=args.scale)
    written = [out]
    if args.write_ab:
        stem, ext = os.path.splitext(out)
        for tag, arr in (("A", res.a), ("B", res.b)):
            save_png(f"{stem}-{tag}{ext or '.png'}", arr, recipe, scale=args.scale)
            written.append(f"{stem}-{tag}{ext or '.png'}")
    print(f"wrote {', '.join(written)} ({res.ms:.0f} ms on {res.device})")
    return 0


def cmd_info(args) -> int:
    from .core.checkpoints import load_any
    from .core.layers import layer_table
    from .core.networks import count_parameters

    loaded = load_any(args.model, "cpu")
    G, cfg = loaded.G, loaded.G.cfg
    if args.json:
        print(json.dumps({"name": loaded.name, "format": loaded.format, "config": cfg.to_dict(),
                          "parameters": count_parameters(G),
                          "layers": [vars(l) for l in layer_table(cfg)]}, indent=1))
        return 0
    print(f"{printable(loaded.name)}  ({printable(loaded.format)})")
    print(f"  resolution {cfg.resolution}x{cfg.resolution}, {cfg.img_channels} channels, num_ws {G.num_ws}")
    print(f"  z_dim {cfg.z_dim}, w_dim {cfg.w_dim}, mapping {cfg.mapping_layers} layers x {cfg.mapping_fmaps}"
          f" (lr multiplier {cfg.mapping_lrmul})")
    print(f"  parameters {count_parameters(G):,}")
    print(f"  default truncation psi {cfg.truncation_psi}, cutoff {cfg.truncation_cutoff}")
    print(f"  {'w':>3}  {'res':>5}  {'ch':>4}  {'layer':<16} group")
    for l in layer_table(cfg):
        print(f"  {l.index:>3}  {l.resolution:>5}  {l.channels:>4}  {l.name:<16} {l.group}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stylemixer", description="Explore style mixing in StyleGAN generators. "
                                "Run without a command to open the desktop app (`stylemixer [FILE] [--model M] "
                                "[--device D] [--dark]`).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("render", help="render a style mix to a PNG (the recipe is embedded in it)")
    r.add_argument("--seed-a", type=int, default=0)
    r.add_argument("--seed-b", type=int, default=1)
    r.add_argument("--mix", default="", help="e.g. coarse=A,middle=B,fine=B or 0-3=0,4-9=0.5 (unlisted: A)")
    r.add_argument("--recipe", help="a recipe JSON, or a PNG written by StyleMixer, to render again")
    r.add_argument("--psi", type=float, default=None, help="truncation psi (default: the model's)")
    r.add_argument("--cutoff", type=int, default=None, help="truncate w indices below this")
    r.add_argument("--noise", default="const", choices=("const", "random", "none"))
    r.add_argument("--noise-seed", type=int, default=0)
    r.add_argument("--scale", type=int, default=1, help="nearest-neighbour enlargement factor")
    r.add_argument("--write-ab", action="store_true", help="also write OUT-A.png and OUT-B.png")
    r.add_argument("-o", "--output", default="mix.png")
    _model_arg(r)
    r.set_defaults(func=cmd_render)

    i = sub.add_parser("info", help="architecture, parameter count and layer table of a model")
    i.add_argument("model", nargs="?", default="builtin")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    for modname in ("stylemixer.core.checkpoints.commands", "stylemixer.training.commands", "stylemixer.bench"):
        try:
            mod = __import__(modname, fromlist=["register"])
        except ImportError as e:
            if e.name is None or not modname.startswith(e.name):
                raise  # a real import problem inside the module, not an absent optional part
            continue
        mod.register(sub)
    return p


def _subcommands(parser) -> set:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv=None) -> int:
    if argv is None:  # the real command line only: big activations on huge pages (core/perf.py, issue 7)
        from .core.perf import reexec_with_huge_pages
        reexec_with_huge_pages()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or (argv[0] not in _subcommands(parser) and argv[0] not in ("-h", "--help")):
        # `stylemixer`, `stylemixer FILE`, `stylemixer --model X --dark ...`: the app takes these arguments
        from .gui.app import main as gui_main
        return gui_main(list(argv))
    args = parser.parse_args(argv)
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


def _error(text: str) -> int:
    """One line on stderr, whatever the text holds: escapes stop a file's text from driving the terminal."""
    print(f"stylemixer: error: {printable(text, 1000)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
