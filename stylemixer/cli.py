"""The `stylemixer` command. No arguments: the desktop app. Subcommands run the same core functions."""
from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import sys

from . import __version__
from .core.errors import StyleMixerError


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


# ---- argument types: a wrong value is reported at once, before any model is loaded -------------------------
def seed_arg(text: str) -> int:
    from .core.latents import MAX_SEED
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{v} is outside 0-{MAX_SEED}")
    return v


def scale_arg(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= v <= 64:
        raise argparse.ArgumentTypeError(f"{v} is outside 1-64 (1 = native size)")
    return v


def cutoff_arg(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{v} is negative")
    return v


def finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def cmd_render(args) -> int:
    from .core.checkpoints import load_any
    from .core.devices import pick_device
    from .core.export import check_output_path, load_recipe_file, save_png
    from .core.mixing import Recipe, parse_mix_spec, split_mix_spec

    # Everything that can be checked without the model first: loading a large model takes seconds.
    if args.mix:
        split_mix_spec(args.mix)
    out = args.output
    stem, ext = os.path.splitext(out)
    outputs = [out] + ([f"{stem}-{tag}{ext or '.png'}" for tag in ("A", "B")] if args.write_ab else [])
    for path in outputs:
        check_output_path(path)
    if args.recipe:
        recipe = load_recipe_file(args.recipe)
        model = args.model if args.model_given else recipe.model
    else:
        model = args.model
    try:
        device = pick_device(args.device)
    except ValueError as e:
        raise StyleMixerError(str(e)) from None
    from .core.render import Renderer
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
    save_png(out, res.mix, recipe, scale=args.scale)
    if args.write_ab:
        # Each image carries its own recipe: A is every w index from A (weights 0), B every one from B.
        n = len(recipe.weights)
        for path, arr, weights in ((outputs[1], res.a, (0.0,) * n), (outputs[2], res.b, (1.0,) * n)):
            save_png(path, arr, recipe.with_weights(weights), scale=args.scale)
    print(f"wrote {', '.join(outputs)} ({res.ms:.0f} ms on {res.device})")
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
    print(f"{loaded.name}  ({loaded.format})")
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
    p = OneLineErrorParser(prog="stylemixer", description="Explore style mixing in StyleGAN generators. "
                                "Run without a command to open the desktop app (`stylemixer [FILE] [--model M] "
                                "[--device D] [--dark]`).")
    p.add_argument("--version", action="version", version=f"stylemixer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("render", help="render a style mix to a PNG (the recipe is embedded in it)",
                       formatter_class=DefaultsHelp)
    r.add_argument("--seed-a", type=seed_arg, default=0, help="seed of A, 0 to 2^32-1")
    r.add_argument("--seed-b", type=seed_arg, default=1, help="seed of B, 0 to 2^32-1")
    r.add_argument("--mix", default="", help="e.g. coarse=A,middle=B,fine=B or 0-3=0,4-9=0.5 (unlisted: A)")
    r.add_argument("--recipe", help="a recipe JSON, or a PNG written by StyleMixer, to render again (default: "
                                    "a recipe from the options here)")
    r.add_argument("--psi", type=finite_float, default=None, help="truncation psi (default: the model's)")
    r.add_argument("--cutoff", type=cutoff_arg, default=None, help="truncate w indices below this (default: "
                                                                    "the model's)")
    r.add_argument("--noise", default="const", choices=("const", "random", "none"), help="per-layer noise")
    r.add_argument("--noise-seed", type=seed_arg, default=0, help="seed of the random noise")
    r.add_argument("--scale", type=scale_arg, default=1, help="nearest-neighbour enlargement factor, 1-64")
    r.add_argument("--write-ab", action="store_true", help="also write OUT-A.png and OUT-B.png, each with its "
                                                           "own recipe")
    r.add_argument("-o", "--output", default="mix.png", help="the PNG to write")
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


def unknown_command(word: str, commands) -> str | None:
    """The error line for a first argument that reads like a mistyped command rather than a file to open."""
    if word.startswith("-") or word in commands or os.path.exists(word):
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", word):  # a dot or a slash: a file name (which may be missing)
        return None
    close = difflib.get_close_matches(word, sorted(commands), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (f"stylemixer: error: unknown command {word!r}{hint}; commands: {', '.join(sorted(commands))}. "
            f"`stylemixer FILE` opens an existing file in the app")


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
    if argv is None:  # the real command line only: big activations on huge pages (core/perf.py, issue 7)
        from .core.perf import reexec_with_huge_pages
        reexec_with_huge_pages()
    argv = sys.argv[1:] if argv is None else argv
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
        return _start_app(list(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    args.model_given = "--model" in argv
    try:
        return int(args.func(args) or 0)
    except StyleMixerError as e:
        print(f"stylemixer: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `stylemixer info | head`: the reader went away; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
