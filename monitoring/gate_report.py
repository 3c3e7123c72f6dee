"""The promotion gate's decision as plain text lines: the table every command and bench prints."""

from __future__ import annotations

from monitoring.models import PromotionDecision
from monitoring.promotion import figure_text, figures_in_order

NAME_WIDTH = 62


def decision_lines(decision: PromotionDecision) -> list[str]:
    """The gate's settings, one line per figure (both versions, the paired difference with its 95%
    interval, the verdict), the decision, its reasons and notes."""
    s = decision.gate_settings
    lines = [f"Promotion gate {decision.pk}: {decision.candidate.name} (candidate) vs "
             f"{decision.baseline.name} (active) on {s['people']} held-out people, {s['candidates']} "
             f"candidate(s) each, seed {s['seed']}, {s['steps']} steps; judge {decision.judge_name}",
             f"{'figure':<{NAME_WIDTH}}  baseline → candidate (difference [95% CI])  verdict"]
    for figure in figures_in_order(decision.figures):
        text = figure["unavailable"] or figure_text(figure)
        if figure.get("note") and figure["verdict"] == "not compared":
            text = figure["note"]
        lines.append(f"{figure['label']:<{NAME_WIDTH}}  {text}  {figure['verdict']}")
    lines.append(f"Decision: {decision.outcome.upper()}")
    lines += [f"  - {reason}" for reason in decision.reasons]
    lines += [f"  note: {note}" for note in decision.notes]
    return lines
