"""Turn a training run into a checkpoint folder that can be committed and registered as a version.

    python -m generation.ml.ship --run var/run-v3 --data var/train128.npz \
        --out generation/checkpoints/headshot-v3 --parent generation/checkpoints/headshot-v2 \
        --hardware "2-core AMD EPYC CPU, torch 2.14.1" --log var/train-v3.log

The folder holds the run's EMA generator (``final/``) with the UNet weights in float16 (half the
file; ``load_generator`` gives float32 again), and a ``dataset.json`` that says what it was trained
on and how to repeat it: the held-out people by corpus reference (from the ``.json`` that
``manage.py export_training_set`` writes beside the npz), the image fingerprint, the parent version,
the export and training commands, and the exact step count. ``generator_register`` reads the parent
and the held-out people from it. With ``--log`` the training log's progress lines are kept as
``train.log``. No Django.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from diffusers import UNet2DModel

WEIGHTS_DTYPE_NOTE = ("float16 (the EMA weights, cast from fp32 to halve the file; "
                      "load_generator gives float32)")
_LOG_LINE = re.compile(r"^(\d+ images|step \d+/|done:|final checkpoint:)")


def _relative_command(command: str, run: Path, data: Path) -> str:
    """The run's command line with this machine's paths replaced by placeholders."""
    words = []
    for word in command.split():
        if word.endswith("generation.ml.train") or word.endswith("generation/ml/train.py"):
            words += ["python", "-m", "generation.ml.train"]
        elif Path(word) == run:
            words.append("RUN")
        elif Path(word) == data:
            words.append(data.name)
        else:
            words.append(word)
    return " ".join(words)


def _with_exact_steps(command: str, steps: int) -> str:
    """The same command stopping after ``steps`` steps (not after some minutes): it repeats the run."""
    words, out, skip = command.split(), [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--minutes", "--steps"):
            skip = True
            continue
        out.append(word)
    return " ".join([*out, "--steps", str(steps)])


def ship_generator(run: Path, out: Path, *, data: Path, parent: Path | None = None, hardware: str = "",
                   log: Path | None = None) -> dict[str, Any]:
    """Write ``out`` from the run folder ``run`` (see the module docstring); returns ``dataset.json``."""
    run, out, data = Path(run), Path(out), Path(data)
    final = run / "final"
    if not (final / "generator.json").is_file():
        raise FileNotFoundError(f"{final} has no generator.json: is {run} a finished training run?")
    data_info_file = data.with_name(data.name + ".json")
    if not data_info_file.is_file():
        raise FileNotFoundError(f"{data_info_file} is missing: ship needs the export's held-out list")
    data_info = json.loads(data_info_file.read_text())
    meta = json.loads((final / "generator.json").read_text())
    parent_info = json.loads((Path(parent) / "dataset.json").read_text()) if parent else {}
    heldout = data_info["heldout_refs"]
    if parent:  # every person the parent holds out stays out; a few more look-alikes may be out too
        missing = sorted(set(parent_info.get("heldout_refs", [])) - set(heldout))
        if missing:
            raise ValueError(f"the training set's held-out people differ from the parent's ({len(missing)} "
                             "of the parent's are not held out): the child may have trained on them")
        heldout = sorted(parent_info["heldout_refs"])  # parent and child: judged on the same people
    if out.exists():
        raise FileExistsError(f"{out} exists; ship into a new folder")

    out.mkdir(parents=True)
    shutil.copytree(final / "scheduler", out / "scheduler")
    UNet2DModel.from_pretrained(final / "unet", low_cpu_mem_usage=False, torch_dtype=torch.float16
                                ).save_pretrained(out / "unet")
    command = _relative_command(meta.get("command", ""), run, data)
    meta["command"] = command
    (out / "generator.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))

    steps = int(meta.get("steps", 0))
    parent_steps = int(parent_info.get("total_steps", parent_info.get("steps", 0))) if parent else 0
    info: dict[str, Any] = {
        "parent": Path(parent).name if parent else None,
        "heldout_refs": heldout,
        "training_images": len(data_info.get("training_refs", [])) or meta.get("images"),
        "crop_size": data_info.get("crop_size"),
        "images_fingerprint": data_info.get("images_fingerprint"),
        "split_seed": data_info.get("seed"),
        "export_command": (f"python manage.py import_face_corpus && python manage.py export_training_set "
                           f"{data.name} --image-size {data_info.get('image_size')}"),
        "train_command": command,
        "reproduce_exactly": _with_exact_steps(command, steps),
        "steps": steps,
        "parent_steps": parent_steps,
        "total_steps": parent_steps + steps,
        "hardware": hardware,
        "weights_dtype": WEIGHTS_DTYPE_NOTE,
    }
    (out / "dataset.json").write_text(json.dumps(info, indent=2))
    if log is not None:
        lines = [line for line in Path(log).read_text().splitlines() if _LOG_LINE.match(line)]
        (out / "train.log").write_text("\n".join(lines) + "\n")
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the training run folder (with final/)")
    parser.add_argument("--data", type=Path, required=True, help="the npz it was trained on"
                        " (with its .json beside it)")
    parser.add_argument("--out", type=Path, required=True, help="a new folder, e.g. generation/checkpoints/V")
    parser.add_argument("--parent", type=Path, default=None, help="the shipped folder it was fine-tuned from")
    parser.add_argument("--hardware", default="", help="where it was trained (recorded in dataset.json)")
    parser.add_argument("--log", type=Path, default=None, help="the training log to keep as train.log")
    args = parser.parse_args(argv)
    try:
        info = ship_generator(args.run, args.out, data=args.data, parent=args.parent, hardware=args.hardware,
                              log=args.log)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        parser.error(str(exc))
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"shipped {args.out} ({size / 1e6:.1f} MB): {info['steps']} steps, parent {info['parent']}, "
          f"{len(info['heldout_refs'])} held-out people")


if __name__ == "__main__":
    main()
