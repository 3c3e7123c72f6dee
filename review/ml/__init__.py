"""Numeric code of the review app (plain NumPy, no Django): the measurable objectives simulated
reviewers judge by (``objectives.py``) and how a simulated reviewer perceives and answers
(``simulate.py``)."""
