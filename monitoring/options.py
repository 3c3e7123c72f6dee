"""What a metric snapshot may ask for beyond the generator's own options (``generation.generator.options``:
candidates, steps and guidance bounds): the one source for the services, the API, the form and the model."""

DEFAULT_SNAPSHOT_CANDIDATES = 2  # candidates per held-out person
