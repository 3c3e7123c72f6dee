from django.apps import AppConfig


class RewardConfig(AppConfig):
    name = "reward"
    verbose_name = "Reward models"

    def ready(self) -> None:
        from reward import services  # noqa: F401 - registers the reward_training job kind
