"""What a metric snapshot may ask for beyond the generator's own options (``generation.generator.options``:
candidates, steps and guidance bounds): the one source for the services, the API, the form and the model."""

DEFAULT_SNAPSHOT_CANDIDATES = 2  # candidates per held-out person

# --- The promotion gate (``monitoring.promotion``) ---------------------------------------------------

DEFAULT_GATE_CANDIDATES = 2  # candidates per held-out person, the same seeds for both versions
GATE_BOOTSTRAP = 2000  # paired-bootstrap resamples of the people (one set for every figure)
#: How much worse than the active version a candidate may be on each guard before it is refused.
#: Django's ``PROMOTION_GATE_TOLERANCES`` setting overrides any of them.
GATE_TOLERANCES: dict[str, float] = {
    "kid_relative": 0.10,  # KID may exceed the active version's by at most 10% (relative)
    "lpips_likeness": 0.02,  # LPIPS to the person's own portrait may rise by at most this much
    "identity_verification_rate": 0.05,  # verification rates may drop by at most 5 points
    "fairness_ratio": 0.05,  # each worst/best skin-tone group ratio may drop by at most this much
}
#: Answers a version comparison campaign needs before people may judge the gate instead of a reward
#: model (on at least ``monitoring.evaluation.MIN_HELDOUT_PEOPLE`` people); Django's
#: ``PROMOTION_GATE_MIN_HUMAN_ANSWERS`` setting overrides it.
GATE_MIN_HUMAN_ANSWERS = 30
DEFAULT_COMPARISON_PEOPLE = 12  # held-out people in a version comparison campaign
