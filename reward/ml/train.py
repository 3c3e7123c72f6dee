"""Training a headshot reward model on preference pairs with TRL's ``RewardTrainer``; resumable.

``train_reward_model(train, validation, config, out_dir)`` builds a fresh model of ``config.model``
kind (``cnn``: ``HeadshotRewardModel``; ``statistics``: ``reward.ml.features``; weights are never
downloaded, everything is trained here), wraps the pairs in datasets, and runs ``ImageRewardTrainer``
(``trl_glue``). With validation pairs (pairs of people kept out of ``train``) it evaluates every
``eval_steps``, stops once the validation loss has not improved for ``early_stopping_patience``
evaluations, and keeps the best checkpoint: ``max_steps`` is a cap, not a target. The learning rate
warms up over ``warmup_ratio`` of the cap and then follows ``lr_scheduler``. Runs on CUDA when
available, else the CPU, in fp32. No Django.

Layout of ``out_dir``::

    run.json                          the run's fingerprint (pairs and network shape)
    checkpoints/checkpoint-<step>/    Trainer checkpoints: model.safetensors, config.json,
                                      preprocessor_config.json, optimizer.pt, scheduler.pt,
                                      rng_state.pth, trainer_state.json (last two kept)
    final/                            config.json + model.safetensors (``load_reward_model``),
                                      preprocessor_config.json, training.json (config and curves)

Calling it again on the same pairs with ``resume=True`` continues from the last checkpoint (the step
count and the curves go on from there); ``resume=False`` deletes earlier checkpoints first.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import EarlyStoppingCallback, PrinterCallback, TrainerCallback, set_seed
from transformers.trainer_utils import get_last_checkpoint
from trl import RewardConfig

from reward.ml.data import PreferenceExample, resize_images
from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel, images_to_tensor, quiet_progress_bars
from reward.ml.options import MIN_PAIRS, MODELS, RewardTrainConfig
from reward.ml.trl_glue import (
    HeadshotImageProcessor,
    ImagePreferenceCollator,
    ImageRewardTrainer,
    preference_dataset,
)


class _ProgressCallback(TrainerCallback):
    """Forwards Trainer logs to ``progress`` and turns ``should_stop()`` into a clean stop."""

    def __init__(self, progress: Callable[[dict], None] | None,
                 should_stop: Callable[[], bool] | None) -> None:
        self.progress = progress
        self.should_stop = should_stop
        self.stopped = False

    def on_step_end(self, args, state, control, **kwargs):
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            control.should_training_stop = True
            control.should_save = True  # a checkpoint at this step, so the run can be resumed
        if control.should_training_stop:
            control.should_log = True  # the loss curve ends at the last step
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if self.progress is None or not ("loss" in logs or "eval_accuracy" in logs):
            return control  # the end-of-training summary has neither
        report = {"step": state.global_step, "max_steps": state.max_steps}
        for key in ("loss", "accuracy", "eval_loss", "eval_accuracy", "learning_rate"):
            if key in logs:
                report[key] = float(logs[key])
        self.progress(report)
        return control


def pairs_fingerprint(pairs: Sequence[PreferenceExample], config: RewardTrainConfig) -> str:
    """sha256 of the pairs (image bytes and shapes, weights, margins) and of the network's shape."""
    shape = [config.model, config.image_size, list(config.channels), config.use_margin]
    digest = hashlib.sha256(json.dumps(shape).encode())
    for pair in pairs:
        for image in (pair.chosen, pair.rejected, pair.reference):
            digest.update(f"{image.shape}|".encode())
            digest.update(memoryview(np.ascontiguousarray(image)).cast("B"))
        digest.update(f"{pair.weight:.17g}|{pair.margin:.17g}".encode())
    return digest.hexdigest()


def _curves(log_history: list[dict[str, Any]]) -> tuple[list[list[float]], ...]:
    loss = [[int(e["step"]), float(e["loss"])] for e in log_history if "loss" in e]
    accuracy = [[int(e["step"]), float(e["eval_accuracy"])] for e in log_history if "eval_accuracy" in e]
    eval_loss = [[int(e["step"]), float(e["eval_loss"])] for e in log_history if "eval_loss" in e]
    return loss, accuracy, eval_loss


def build_model(config: RewardTrainConfig, train: Sequence[PreferenceExample]) -> Any:
    """A fresh model of ``config.model`` kind, seeded; the statistics model's standardisation is
    fitted on the training images (every chosen, rejected and reference image once)."""
    if config.model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {config.model!r}")
    set_seed(config.seed)  # the initial weights
    if config.model == "cnn":
        return HeadshotRewardModel(HeadshotRewardConfig(image_size=config.image_size,
                                                        channels=list(config.channels)))
    from reward.ml.features import HeadshotFeatureRewardConfig, HeadshotFeatureRewardModel

    model = HeadshotFeatureRewardModel(HeadshotFeatureRewardConfig(image_size=config.image_size))
    images = np.stack([resize_images(image, config.image_size) for example in train
                       for image in (example.chosen, example.rejected, example.reference)])
    model.fit_normalisation(images_to_tensor(images))
    return model


def train_reward_model(train: list[PreferenceExample], validation: list[PreferenceExample],
                       config: RewardTrainConfig, out_dir: Path,
                       progress: Callable[[dict], None] | None = None, resume: bool = True,
                       should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Train (or resume training) a reward model on ``train`` pairs; ``validation`` pairs (people kept
    out of ``train``) choose when to stop and which checkpoint to keep (see the module docstring).

    ``progress`` is called with ``{"step", "max_steps", "loss", "accuracy", "learning_rate"}`` every
    ``logging_steps`` and with ``{"step", "max_steps", "eval_loss", "eval_accuracy"}`` after each
    evaluation; ``should_stop()`` is polled after every step and, once True, training stops cleanly
    (a checkpoint and the final model are still written). Raises ``ValueError`` for fewer than
    ``MIN_PAIRS`` training pairs, all-zero weights, an unknown model kind, or a checkpoint from other
    pairs.

    Returns ``steps`` (done in total), ``best_step`` (the checkpoint kept; the last step without
    validation), ``stopped_early`` (the validation loss stopped improving before ``max_steps``),
    ``start_step``, ``loss_curve`` [[step, loss]], ``eval_curve`` [[step, validation accuracy]],
    ``eval_loss_curve`` [[step, validation loss]], ``train_pairs``, ``validation_pairs``, ``seconds``
    (this call), ``stopped`` (True when ``should_stop`` ended it), ``device``, ``final`` and
    ``checkpoint`` (paths as str).
    """
    if len(train) < MIN_PAIRS:
        raise ValueError(f"a reward model needs at least {MIN_PAIRS} training pairs, got {len(train)}: "
                         "collect more pairwise choices or ratings first")
    if sum(example.weight for example in train) <= 0:
        raise ValueError("every training pair has weight 0")
    if config.model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {config.model!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    checkpoints = out_dir / "checkpoints"
    if not resume:
        shutil.rmtree(checkpoints, ignore_errors=True)

    processor = HeadshotImageProcessor(image_size=config.image_size)
    train_set = preference_dataset(train, processor, config.use_margin)
    eval_set = preference_dataset(validation, processor, config.use_margin) if validation else None
    fingerprint = pairs_fingerprint(train, config)
    run_file = out_dir / "run.json"
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    previous = json.loads(run_file.read_text())["fingerprint"] if run_file.exists() else None
    if last is not None and previous not in (None, fingerprint):
        raise ValueError(f"{checkpoints} holds a run on other pairs or another network shape; "
                         "use another out_dir or resume=False")
    out_dir.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps({"fingerprint": fingerprint, "config": asdict(config)}, indent=2))

    cuda = torch.cuda.is_available()
    select = eval_set is not None
    args = RewardConfig(
        output_dir=str(checkpoints),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=round(config.warmup_ratio * config.max_steps),
        weight_decay=config.weight_decay,
        seed=config.seed,
        center_rewards_coefficient=config.center_rewards_coefficient,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if select else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps if select else config.save_steps,
        save_total_limit=2,  # the best checkpoint is kept besides the last
        load_best_model_at_end=select,
        metric_for_best_model="eval_loss" if select else None,
        greater_is_better=False if select else None,
        report_to=[],
        disable_tqdm=True,
        # gradient checkpointing (TRL's default; "activation_checkpointing" since transformers 5.2x, which
        # warns about the old name): off, a CNN this small has no activations worth recomputing
        activation_checkpointing=False,
        max_length=None,  # no token-length filter for images
        bf16=False,  # TRL's default is bf16; the CPU runs fp32 convolutions faster and scores stay exact
        use_cpu=not cuda,
        dataloader_num_workers=0,
    )
    model = build_model(config, train)
    callback = _ProgressCallback(progress, should_stop)
    callbacks: list[TrainerCallback] = [callback]
    if select:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = ImageRewardTrainer(model=model, args=args, data_collator=ImagePreferenceCollator(processor),
                                 train_dataset=train_set, eval_dataset=eval_set, processing_class=processor,
                                 callbacks=callbacks, augment_shift=3 if config.augment else None)
    trainer.remove_callback(PrinterCallback)  # it prints every log dict; ``progress`` reports instead
    start_step = 0
    if last is not None:
        start_step = json.loads((Path(last) / "trainer_state.json").read_text())["global_step"]
    with quiet_progress_bars():
        trainer.train(resume_from_checkpoint=last)

    loss_curve, eval_curve, eval_loss_curve = _curves(trainer.state.log_history)
    best = trainer.state.best_model_checkpoint
    final = out_dir / "final"
    model = trainer.model  # the best checkpoint's weights when there were validation pairs
    with quiet_progress_bars():
        model.save_pretrained(final)
    processor.save_pretrained(final)
    steps = trainer.state.global_step
    result = {
        "steps": steps,
        "best_step": int(Path(best).name.rsplit("-", 1)[1]) if best else steps,
        "stopped_early": bool(select and steps < config.max_steps and not callback.stopped),
        "start_step": start_step,
        "loss_curve": loss_curve,
        "eval_curve": eval_curve,
        "eval_loss_curve": eval_loss_curve,
        "train_pairs": len(train),
        "validation_pairs": len(validation),
        "seconds": time.perf_counter() - started,
        "stopped": callback.stopped,
        "device": str(trainer.args.device),
        "final": str(final),
        "checkpoint": get_last_checkpoint(str(checkpoints)),
    }
    (final / "training.json").write_text(json.dumps({"config": asdict(config), "fingerprint": fingerprint,
                                                     **result}, indent=2, default=str))
    return result
