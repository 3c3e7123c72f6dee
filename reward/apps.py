from django.apps import AppConfig


class RewardConfig(AppConfig):
    name = "reward"
    verbose_name = "Reward models"

    def ready(self) -> None:
        from generation.generator.ranking import register_candidate_ranker
        from reward import scoring, services  # noqa: F401 - services registers the reward_training job kind

        register_candidate_ranker(scoring.RewardModelRanker())
