"""Reward pages: datasets, training, model versions with their evaluation (engineers; auditors read)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hfplatform.accounts.roles import ENGINEERS, READERS, has_role, role_required
from hfplatform.errors import ApplicationError
from hfplatform.views import LIST_LIMIT, form_submit, found_or_404
from reward.forms import PreferenceDatasetForm, RewardTrainingForm
from reward.models import PreferenceDataset, RewardModelVersion
from reward.selectors import (
    generator_finetuning_list,
    preference_dataset_list,
    reward_model_activations,
    reward_model_get,
    reward_model_list,
)
from reward.services import preference_dataset_create, reward_model_activate, reward_training_start


def _page(request: HttpRequest, dataset_form=None, training_form=None) -> HttpResponse:
    return render(request, "reward/home.html", {
        "datasets": preference_dataset_list()[:100], "models": reward_model_list()[:100],
        "can_manage": has_role(request.user, ENGINEERS),
        "dataset_form": dataset_form or PreferenceDatasetForm(),
        "training_form": training_form or RewardTrainingForm()})


@role_required(*READERS)
def reward_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@role_required(*ENGINEERS)
def dataset_create_page(request: HttpRequest) -> HttpResponse:
    form = PreferenceDatasetForm(request.POST)

    def create(values: dict[str, Any]) -> PreferenceDataset:
        campaign_ids = [c.pk for c in values.pop("campaigns")]
        return preference_dataset_create(created_by=request.user, campaign_ids=campaign_ids, **values)

    dataset = form_submit(form=form, service=create)
    if dataset is None:
        return _page(request, dataset_form=form)
    messages.success(request, f"Dataset {dataset.name}: {dataset.counts['pairs']} pairs.")
    return redirect("reward:home")


@require_POST
@role_required(*ENGINEERS)
def training_start_page(request: HttpRequest) -> HttpResponse:
    form = RewardTrainingForm(request.POST)

    def start(values: dict[str, Any]) -> RewardModelVersion:
        if not values.get("name"):
            values.pop("name", None)
        return reward_training_start(started_by=request.user, **values)

    version = form_submit(form=form, service=start)
    if version is None:
        return _page(request, training_form=form)
    messages.success(request, f"Training {version.name}.")
    return redirect("jobs:detail", version.training_job_id)


@role_required(*READERS)
def model_detail_page(request: HttpRequest, name: str) -> HttpResponse:
    version = found_or_404(reward_model_get, name=name)
    return render(request, "reward/model_detail.html", {
        "version": version, "metrics": version.metrics, "can_manage": has_role(request.user, ENGINEERS),
        "activations": reward_model_activations(version)[:LIST_LIMIT]})


@require_POST
@role_required(*ENGINEERS)
def model_activate_page(request: HttpRequest, name: str) -> HttpResponse:
    try:
        version = reward_model_activate(version=found_or_404(reward_model_get, name=name),
                                        activated_by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.name} is the active reward model.")
    return redirect("reward:home")


def _sparkline(curve: list, width: int = 160, height: int = 36) -> str:
    """SVG polyline points of a ``[[step, value], ...]`` curve scaled into width × height."""
    if len(curve) < 2:
        return ""
    steps, values = [p[0] for p in curve], [p[1] for p in curve]
    x0, x1, y0, y1 = min(steps), max(steps), min(values), max(values)
    return " ".join(f"{(s - x0) / ((x1 - x0) or 1) * width:.1f},"
                    f"{height - (v - y0) / ((y1 - y0) or 1) * height:.1f}" for s, v in curve)


@role_required(*READERS)
def finetunings_page(request: HttpRequest) -> HttpResponse:
    """Generator fine-tunings with their job's progress and loss curve (the job page draws it live)."""
    rows = []
    for ft in generator_finetuning_list()[:LIST_LIMIT]:
        loss = ft.job.result.get("loss_curve") or []
        rows.append({"ft": ft, "loss": loss, "points": _sparkline(loss),
                     "evals": ft.job.result.get("eval_curve") or [],
                     "rewards": ft.job.result.get("reward_curve") or []})
    return render(request, "reward/finetunings.html", {"rows": rows})

