"""The generator room of the generation app: versions, training, generation jobs, headshots."""
