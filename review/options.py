"""What a review campaign and an answer may ask for: the one source that the services, the API, the
campaign form, the models' defaults and the commands validate against."""

from hfplatform.accounts.roles import RATER_ROLES

OVERLAP = range(1, 11)  # distinct reviewers per item
DEFAULT_OVERLAP = 3
GOLD_RATE = (0.0, 0.5)  # share of a reviewer's items that are gold (known answer)
DEFAULT_GOLD_RATE = 0.1
LEASE_SECONDS = range(30, 24 * 3600 + 1)  # how long a claimed item is held: 30 s to one day
DEFAULT_LEASE_SECONDS = 600
PAIRS_PER_JOB = range(1, 121)  # pairwise items drawn from one generation job's candidates
DEFAULT_PAIRS_PER_JOB = 6
DEFAULT_ROLES = tuple(role.value for role in RATER_ROLES)  # who may take a campaign unless told
SCORES = range(1, 6)  # every 1–5 answer: the three rating scales and the blind test's confidence
DEFAULT_PHOTOGRAPHER_WEIGHT = 2.0  # a photographer's answer against a reviewer's, unless set in settings
# What a campaign's pairwise items must carry to teach a reward model or Diffusion-DPO (docs/review.md):
# a warning shows when the reviewers cannot tell the pairs apart (can't-tell share at or above
# TIE_SHARE_WARNING, once MIN_ANSWERS_FOR_TIE_WARNING pairwise answers are in) or when the pairs are
# near-copies (mean LPIPS between a pair's headshots below PAIR_DIVERSITY_WARNING; LPIPS alex v0.1
# at the stored size: 0 for identical images, 0.1 to 0.7 for a photo against a moderately degraded
# copy of it; the candidates of one job with one seed range and no spread measured 0.021).
TIE_SHARE_WARNING = 0.4
MIN_ANSWERS_FOR_TIE_WARNING = 10
PAIR_DIVERSITY_WARNING = 0.05
# Words shown under points of the 1–5 scales of a rating (a campaign may set its own).
DEFAULT_SCALE_ANCHORS = {"1": "not usable", "3": "usable with fixes", "5": "studio quality"}
SCALE_ANCHOR_MAX_LENGTH = 40
GUIDELINES_MAX_LENGTH = 20000
SKIP_REASON_MAX_LENGTH = 200
