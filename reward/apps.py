from django.apps import AppConfig


class RewardConfig(AppConfig):
    name = "reward"
    verbose_name = "Reward models"

    def ready(self) -> None:
        from generation.generator.ranking import register_candidate_ranker

        # services and finetuning register the reward_training and generator_finetune job kinds
        from reward import finetuning, scoring, services  # noqa: F401

        register_candidate_ranker(scoring.RewardModelRanker())
