"""``manage.py compare_reward_models A B``: two reward models on the same held-out items, with the
paired interval of their difference."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from hfplatform.errors import ApplicationError, NotFound
from reward.evaluation import reward_models_compare
from reward.selectors import reward_model_get


def _share(figure: dict) -> str:
    if figure["value"] is None:
        return "—"
    low, high = figure["interval"]
    return f"{figure['value']:.3f} [{low:.3f}, {high:.3f}]"


class Command(BaseCommand):
    help = ("Compare two reward models of one dataset and dimension on its held-out items: each one's "
            "accuracy against the consensus of the votes, and the difference with a paired 95% interval.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("a", help="Reward model name.")
        parser.add_argument("b", help="Reward model name.")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, a: str, b: str, as_json: bool = False, **options) -> None:
        try:
            result = reward_models_compare(a=reward_model_get(name=a), b=reward_model_get(name=b))
        except (ApplicationError, NotFound) as exc:
            raise CommandError(exc.message) from None
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(f"{result['a']} vs {result['b']} on {result['pairs']} held-out pairs of "
                          f"{result['people']} people ({result['dataset']}, {result['dimension']})")
        figure = result["consensus"]
        self.stdout.write(f"  consensus accuracy  {result['a']}: {_share(figure['a'])}")
        self.stdout.write(f"  consensus accuracy  {result['b']}: {_share(figure['b'])}")
        self.stdout.write(f"  difference (a − b), paired 95% interval: {_share(figure['difference'])} "
                          f"on {figure['difference']['n']} items")
