"""Skill-gap diagnosis: indicator system and scoring, gap diagnosis, course plans, assessment log.

Public API (DataFrames in and out, no file I/O; the command line is ``govml skills``):

* :func:`load_indicator_system` / :class:`IndicatorSystem` — the validated ``indicators.yaml``;
  ``system.indicator_ids`` lists the indicator columns of an assessment table.
* :func:`prepare_assessments` — check a table against the system, wide/long/per-source → wide.
* :class:`IndicatorNormaliser`, :func:`score_assessments` — 0–100 scores, composites, cards.
* :func:`diagnose_gaps`, :func:`shortfall_matrix`, :func:`flagged_shortfalls` — gap diagnosis.
* :func:`workforce_drivers` — which indicators drive low composites (LightGBM + SHAP).
* :func:`parse_courses`, :func:`plan_courses`, :func:`cohort_view` — optimal course plans.
* :func:`entropy_weights`, :func:`ahp_weights`, :func:`topsis` — weighting and ranking methods.
* :mod:`govml.skills.ledger` — the tamper-evident (hash-chained) assessment log.
"""

from govml.skills.assessments import Prepared, prepare_assessments
from govml.skills.courses import Catalog, cohort_view, parse_courses, plan_courses
from govml.skills.drivers import workforce_drivers
from govml.skills.gaps import GAP_COLUMNS, diagnose_gaps, flagged_shortfalls, shortfall_matrix
from govml.skills.indicators import IndicatorSystem, indicator_system_from_dict, load_indicator_system
from govml.skills.scoring import IndicatorNormaliser, assign_cards, score_assessments
from govml.skills.weights import ahp_weights, entropy_weights, topsis

__all__ = [
    "GAP_COLUMNS", "Catalog", "IndicatorNormaliser", "IndicatorSystem", "Prepared", "ahp_weights", "assign_cards",
    "cohort_view", "diagnose_gaps", "entropy_weights", "flagged_shortfalls", "indicator_system_from_dict",
    "load_indicator_system", "parse_courses", "plan_courses", "prepare_assessments", "score_assessments",
    "shortfall_matrix", "topsis", "workforce_drivers",
]
