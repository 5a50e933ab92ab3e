"""CLI subcommands: `train` and `dataset preview`. `register(subparsers)` adds them to the app's parser."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

DEFAULTS_NOTE = "defaults reproduce the shipped built-in model (see docs/model-card.md)"


def register(subparsers) -> None:
    from ..cli import DefaultsHelp

    p = subparsers.add_parser(
        "train",
        help="train a generator (the engine's AdaIN StyleGAN) on procedural faces or a folder of images",
        description=DEFAULTS_NOTE,
        formatter_class=DefaultsHelp,
    )
    p.add_argument(
        "--data",
        default="procedural",
        help="'procedural' or a folder of images (resized and centre-cropped to --resolution)",
    )
    p.add_argument("--out", default="runs/builtin", help="run directory: checkpoints, sample grids")
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="training-time budget in minutes, total over resumes "
        "(default: no time limit; --minutes, --kimg or both are required)",
    )
    p.add_argument(
        "--kimg", type=float, default=None, help="budget in thousands of training images, total (default: no limit)"
    )
    p.add_argument("--batch", type=int, default=32, help="images per training step")
    p.add_argument("--lr", type=float, default=0.0015, help="Adam learning rate of G and D")
    p.add_argument("--r1-gamma", type=float, default=0.1, help="R1 gradient penalty weight on real images")
    p.add_argument("--mixing-prob", type=float, default=0.9, help="share of batches trained with two ws mixed")
    p.add_argument("--channels", default="128,128,64,32,16", help="G widths at 4, 8, ... px (D mirrors them)")
    p.add_argument("--w-dim", type=int, default=128, help="z and w size")
    p.add_argument("--resolution", type=int, default=64, help="image size in pixels (a power of two)")
    p.add_argument("--pool-size", type=int, default=30000, help="procedural images held in memory")
    p.add_argument("--blur", type=float, default=0.0, help="D-input blur sigma (px) at --blur-start, fading to 0")
    p.add_argument("--blur-start", type=float, default=0.0, help="kimg where the blur schedule starts")
    p.add_argument("--blur-fade", type=float, default=0.0, help="kimg over which the blur fades out")
    p.add_argument(
        "--resume",
        default=None,
        help="checkpoint.pt to resume, or 'auto' for OUT/checkpoint.pt if present (default: start afresh)",
    )
    p.add_argument(
        "--export",
        default=None,
        help="when done, write the EMA generator here (native .safetensors; default: only the run directory's files)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    # 1 thread by default: on a shared 2-core machine, 2 OpenMP threads spin on each other when another process
    # takes a core (measured 3 img/s vs 36 img/s with 1 thread); use 2 only on an otherwise idle machine
    p.add_argument("--threads", type=int, default=1, help="CPU threads (2+ only if the machine is idle)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, data order and noise")
    p.add_argument("--sample-every", type=float, default=5.0, help="minutes between sample grids")
    p.add_argument("--checkpoint-every", type=float, default=5.0, help="minutes between checkpoints")
    p.set_defaults(func=cmd_train)

    d = subparsers.add_parser("dataset", help="the procedural training set")
    dsub = d.add_subparsers(dest="dataset_cmd", required=True)
    pv = dsub.add_parser("preview", help="save a grid of procedural training images", formatter_class=DefaultsHelp)
    pv.add_argument("-o", "--output", default="dataset_preview.png", help="the PNG to write")
    pv.add_argument("-n", "--count", type=int, default=64, help="number of images")
    pv.add_argument("--cols", type=int, default=8, help="images per row")
    pv.add_argument("--seed", type=int, default=0, help="data-set seed")
    pv.add_argument("--start", type=int, default=0, help="index of the first image")
    pv.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscale of the grid")
    pv.set_defaults(func=cmd_dataset_preview)


def cmd_train(args) -> int:
    from stylemixer.training.loop import TrainConfig, Trainer, export_ema, read_checkpoint

    if args.minutes is None and args.kimg is None:
        print("stylemixer: error: train: give a budget with --minutes and/or --kimg", file=sys.stderr)
        return 2
    channels = tuple(int(c) for c in str(args.channels).split(","))
    cfg = TrainConfig(
        data=args.data,
        out=args.out,
        resolution=args.resolution,
        channels=channels,
        z_dim=args.w_dim,
        w_dim=args.w_dim,
        batch=args.batch,
        lr=args.lr,
        r1_gamma=args.r1_gamma,
        mixing_prob=args.mixing_prob,
        minutes=args.minutes,
        kimg=args.kimg,
        pool_size=args.pool_size,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        sample_every_min=args.sample_every,
        checkpoint_every_min=args.checkpoint_every,
        blur_sigma=args.blur,
        blur_start_kimg=args.blur_start,
        blur_fade_kimg=args.blur_fade,
    )
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    resume = args.resume
    if resume == "auto":
        resume = Path(args.out) / "checkpoint.pt"
        resume = resume if resume.exists() else None
    # read (and vet) the checkpoint before building anything: a bad file costs nothing and changes nothing
    state = read_checkpoint(resume) if resume else None
    trainer = Trainer(cfg, log=log)
    if resume:
        trainer.load_checkpoint(resume, state)
        # budgets come from this command line, not from the checkpoint, so a run can be extended
        trainer.cfg.minutes, trainer.cfg.kimg = cfg.minutes, cfg.kimg
    trainer.run()
    log(
        f"done: {trainer.nimg} images, {trainer.step} steps, {trainer.train_seconds / 60:.1f} min; "
        f"checkpoint {Path(args.out) / 'checkpoint.pt'}"
    )
    if args.export:
        export_ema(trainer, args.export, command="stylemixer " + shlex.join(sys.argv[1:]))
        log(f"exported EMA generator to {args.export}")
    return 0


def cmd_dataset_preview(args) -> int:
    from PIL import Image

    from stylemixer.data import faces

    imgs = faces.make_pool(args.count, seed=args.seed, start=args.start)
    g = faces.grid(imgs, args.cols)
    if args.scale > 1:
        g = g.resize((g.width * args.scale, g.height * args.scale), Image.NEAREST)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    g.save(args.output)
    print(f"wrote {args.output} ({args.count} images, data-set seed {args.seed})")
    return 0


def main(argv=None) -> int:
    """Stand-alone entry (`python -m stylemixer.training.commands ...`) until the app CLI wires `register`."""
    parser = argparse.ArgumentParser(prog="stylemixer")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
