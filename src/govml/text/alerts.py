"""Early warning (民情预警): surges of a category, and emerging terms, per group and period.

For every group (community, district, any column) × category × period we compare the observed
number of messages with what the **past alone** leads us to expect, test the excess, control the
false discovery rate over the many cells, and grade what survives.

Expected count of a cell (group ``g``, category ``c``, period ``t``)
---------------------------------------------------------------------
Only periods before ``t`` are used (the test suite corrupts period ``t`` and everything after it
and checks that the expectation of ``t`` does not move).

* **Recent level with pooled shrinkage.** ``S`` = messages of ``(g, c)`` in the ``lookback``
  periods before ``t`` (8 weeks or 6 months by default), ``n`` = the number of those periods the
  group existed. The prior rate is the group's recent volume ``V`` (messages per period, all
  categories) times the category's share ``π`` among all groups' past messages. The level is the
  empirical-Bayes mean ``λ = (S + k·π·V) / (n + k)`` (``k = prior_strength`` = 4 periods): sparse
  cells lean on the pooled picture, busy cells on their own history; the short window follows a
  trend.
* **Seasonality**, pooled over all groups per category. With a season of history (52 weeks or 12
  months before the level window): ``s = (A + m) / (B + m)``, ``A`` the category's mean count over
  periods ``t−P−1 … t−P+1`` last season, ``B`` its level before that; without it (the first year):
  the category's momentum, last 2 periods against the level window, pooled over the *other*
  groups (``momentum_loo``: a surge in a big group must not raise its own expectation through the
  pool). ``m = season_shrink`` (10 messages) keeps thin categories near 1.
* ``baseline = λ · s`` (column ``baseline`` of ``cells_``).
* ``prior='level'`` (not the default): the prior is the cell's own rate before the level window,
  itself shrunk toward ``π·V`` with ``k``; the level then rests on more periods of the cell. Fewer
  alerts on negative-binomial noise, but more false alerts on data_samples' slowly drifting rates
  and no better on the real board (docs/benchmarks.md).

Test
----
A surge may build over weeks, so each cell is tested over **windows** of 1, 2 and 4 periods ending
at ``t``: the observed sum against ``λ`` frozen at the window's start times the seasonal factors of
the window (so the surge's own first weeks never raise its expectation). Counts are negative
binomial with variance ``μ(1 + φ) + αμ²`` (``dispersion='nb12'``; ``'nb2'``: ``φ = 0``): on real
message boards the excess variance is far larger, relative to ``μ²``, in thin cells than in busy
ones (teddycup 附件3: ``((y−μ)² − y)/μ²`` ≈ 0.7 at μ < 0.5, 0.13–0.17 at μ 2–8), which one ``α``
cannot fit. For a window of ``w`` periods summing to ``e`` the relative extra variance is
``φ/e + α/w``, plus the uncertainty of the level itself (``(1 + φ)/(λ(n+k)) + α/(n+k)``). The
window with the smallest p-value is kept, Bonferroni-corrected for the 3 windows: ``p_value``
(``window_correction='max'``: the exact tail of the largest of nested-window z-scores instead, no
gain measured); ``observed`` and ``expected`` are that window's sums (``cells_['window']`` says
which). A window longer than one period counts only while the surge is **going on**
(``ongoing``): its last period must itself be above the level the window is judged against. Without
this a one-period spike that is over goes on alerting through the 2- and 4-period windows that still
contain it (on the real board: about 30 % fewer false alerts at the same recall).

**Two gamma layers** (``predictive='mixture'``, default since session 8). The count of a window is
negative binomial around ``e·x``: one gamma layer is the periods' own overdispersion (``α/w``, ``φ``),
the other, ``x`` (mean 1, relative variance ``(1 + φ)/(λ(n+k)) + α/(n+k)``), is the uncertainty of the
estimated level. Folding both into one negative binomial with the summed variance (``'nb'``, the test
before) keeps the variance but thins the upper tail: at p ≈ 1e-3 the product's tail is 1.4–1.7 times
the single layer's (:func:`_nb_gamma_sf`, a 24-node rule in ``log x``; where the level is almost
unknown, relative variance > 1, the single layer stays). Why it mattered: on negative-binomial
noise the window p-values ≤ 1e-3 were 1.2–2.2 times as many as the model allowed (4-period windows
worst), and the false alerts were busy cells whose level had come out 30–50 % low by chance, a
one-period spike on top, then its 2- and 4-period windows. Rates that double over 60 weeks (a
growing hotline) made it worse — 1.03–1.07 false alerts per 100 group-weeks against 0.71 flat —
through the volume (the same panels flat at twice the rate: 0.94), not through the baseline's lag:
the one-period baseline is 2 % low under that trend (the momentum projects 3 of the 4.5 periods by
which the 8-period level lags), and removing the lag (momentum projected to the period, and
``window_drift``) left the false alerts as they were (1.06–1.11), as did turning the momentum off.
The calibrated test asks more of borderline cells, so 预警 asks ``q ≤ 0.125`` (was 0.10, set against
the thinner tail): the same recall on surges planted into teddycup 附件3, fewer false alerts on
noise (docs/benchmarks.md, session 8).

``φ`` and ``α`` are fitted by weighted least squares of ``(y−μ)² − y`` on ``μ`` and ``μ²`` over all
earlier periods (weights ``1/v²``, categories already seen), refitted twice without the
cells that were extreme under the previous fit (NB tail ``p < alpha_outlier_p`` = 0.001: past
surges, hot issues), each shrunk toward its prior (``alpha_prior`` = 0.3, ``phi_prior`` = 0) with the
weight of 8 average past periods; ``α ≥ alpha_floor`` = 0.05, ``φ ≥ 0`` (``alpha_``, ``phi_``).
``dispersion_fit='ml'`` fits ``φ`` and ``α`` by negative-binomial maximum likelihood instead (real
board: φ ≈ 0.15, α ≈ 0.17 against least squares' 0.08, 0.19 — lighter tails for busy cells): fewer
false alerts, but fewer hits at the same q, the same trade-off as a stricter q; not the default.

Category q-values are computed per period over **every** tested cell with the discrete
Benjamini–Hochberg procedure (``fdr='discrete'``; Heyse 2011, Döhler et al. 2018): BH's ``m·t`` is
replaced by ``Σ_i F_i(t)``, ``F_i`` the largest tail probability ≤ ``t`` that cell ``i``'s negative
binomial can reach (summed over its windows at ``t/3``). A cell expecting 0.05 messages cannot
produce most small p-values, so thin and empty cells cost the family little, and the family is not
chosen by looking at the counts. q never exceeds plain BH's. ``fdr='bh'`` is plain BH over the cells
with at least ``family_min_count`` messages. ``score = −log10(q)``.
Pure-noise tests (Poisson and negative binomial) check that this keeps false
alerts rare.

Levels (all thresholds configurable: ``thresholds=``, ``term_thresholds=``)
--------------------------------------------------------------------------
Category cells:

* **告警** (alarm): ``q ≤ 0.01``, ``observed / expected ≥ 3``, ``observed ≥ 6``.
* **预警** (warning): ``q ≤ 0.125``, ``observed / expected ≥ 2``, ``observed ≥ 4``.
* **关注** (watch): raw ``p ≤ 0.01``, ``observed / expected ≥ 1.5``, ``observed ≥ 3`` — a watch list
  for analysts, not an alert; never counted as a false alert.

Emerging terms (stricter: many terms, bursts of copied wording): 告警 ``q ≤ 0.001``, ratio ≥ 5,
observed ≥ 6; 预警 ``q ≤ 0.01``, ratio ≥ 3, observed ≥ 4; 关注 ``p ≤ 0.001``, ratio ≥ 3, observed ≥ 4.

Emerging terms (``kind = 'term'``)
----------------------------------
The same machinery on "messages of the group that contain the term" (tokens from
:class:`govml.text.tokenize.GovTokenizer` unless another tokenizer is given) for terms that were
**rare before** — in the group's whole history at most ``term_rare_max`` (0.25) messages per period,
over at least ``term_min_history`` (12) periods, and in at most ``term_max_share`` (2 %) of all
earlier messages (小区, 物业 are never new) — and appear in at least ``term_min_count`` (4) messages
of the window now. The prior rate is the term's share of all past messages times the group's
volume; ``α`` is at least ``term_alpha_floor`` (0.3). The BH family of a period is every (group,
term) seen in it (non-candidates count with ``p = 1``), so a thousand local words cannot slip one
through. One burst of near-identical messages makes all of its words "new": within a group-period
a term alert whose messages are mostly (``dedupe_overlap`` = 60 %) those of a stronger one is folded
into it (``cells_['related']`` lists the folded terms).

Category and term evidence together (``evidence=``)
----------------------------------------------------
A real surge is usually many residents writing about one problem, so it shows in the category count
*and* in the words. The emerging-term test alone cannot carry an alert on long real messages: on
teddycup 附件3 (no planted surge) it raises 163 term alerts ≥ 预警 in 1,302 area-weeks — repeated
postings, a few long messages sharing an unusual word, and the board's own waves — where the
category test raises 5. What the words add is support for a count that rises only moderately:

* ``'category'``: category alerts from the count alone, as above.
* ``'gated'`` (default): the terms are also tested *within each group × category cell* (the term machinery
  with the cell as the group: rare before in that cell, prior = the term's overall share × the
  cell's recent volume). A category cell not already at 预警 is raised to 预警 when its own
  (window-corrected) ``p ≤ gate_p`` (0.05), ``observed / expected ≥ combined_ratio`` (1.5),
  ``observed ≥`` 预警's minimum count, and its strongest term's p-value × the number of candidate
  terms of the cell is ``≤ gate_term_p`` (1e-12: a burst of many messages sharing a word new to
  the cell, not four messages that happen to share one). ``related`` names the term; ``p_value``,
  ``q_value`` and ``score`` stay the count's. Never 告警 by this route.
* ``'combined'``: Fisher's statistic of the count's p-value and the strongest term's, calibrated
  against the same statistic of every earlier tested category cell (an empirical, past-only null),
  Benjamini–Hochberg per period (预警 q ≤ 0.1, 告警 q ≤ 0.01; ``combined_thresholds``). Honest
  about the terms' miscalibration, but on the real board the board's own themed waves are as strong
  as planted ones, so it adds false alerts without adding hits (docs/benchmarks.md).

``cells_`` then has ``p_term`` (the strongest term's p × candidates, 1 when none), and with
``'combined'`` ``p_combined`` and ``q_combined``. The output columns do not change.

``term_levels='watch'`` (default): when categories are tested, term cells are capped at 关注 (a
watch list of emerging words); their evidence reaches 预警 only through a category cell
(``'gated'``). Without a category column term alerts keep their levels (``'full'``: always).

Measured on surges planted into teddycup 附件3 (docs/benchmarks.md, tuning and held-out seeds):
``'gated'`` raises category recall on themed waves from 0.80–0.93 to 0.94–0.98 and on cloned
surges from 0.80–0.89 to 0.80–0.91, with false alerts 0.37–0.42 → 0.66–0.74 per 100 area-weeks
(unplanted board 5 → 9 alerts, 0.69 per 100; the four added name 夜间施工, 架设 (the 月亮岛路 power
line), 三妹, 美食); data_samples stays 8/8 with 0.24 false per 100, the pure-noise panels (no text)
are unchanged. With ``term_levels='full'`` the term alerts add 12–14 false alerts per 100
area-weeks on that board.

Files without categories, and stray old records
-----------------------------------------------
``unlabelled='total'`` (default): without a category column each group's **total** is tested as the
one category, ``全部`` (:data:`TOTAL_KEY`), with the same expectation, test and levels; its words back
it up through ``'gated'`` and term cells stay at 关注 as above. Term alerts alone
(``unlabelled='terms'``, the behaviour before) raise 4–5 alerts ≥ 预警 a week on the real board with
one group (230 in 52 weeks of 附件3) — bursts of ordinary words in long messages; the totals raise none
there. A total is a busier, swingier cell than a category, so 预警 asks q ≤ 0.35 of it (0.25 before session 9b's
prior; :data:`TOTAL_THRESHOLDS`, ``total_thresholds=``): on the area-grouped board with surges planted into
the totals, recall 0.57–0.93 at 0.34–0.47 false alerts per 100 area-weeks (q ≤ 0.10: 0.44–0.92 at
0.05–0.16; ``benchmarks/bench_alerts.py --no-categories``, docs/benchmarks.md).

**A total's prior is its share of the board** (``total_prior='board'``, session 9). A category cell's prior is the
group's recent volume × the category's share; for a total that prior was the group's own recent volume — the
level itself (``total_prior='own'``, before): no shrinkage, an 8-period mean counted as ``n + k`` = 12 periods of
evidence, and an expectation of exactly 0 after a quiet lookback window. Now the prior is the board's volume over
the same lookback periods × the group's share of the board's messages since the group began (past only,
smoothed toward ``1/G``; one group: unchanged), so a level that came out low by chance leans on the group's
long-run place in the board's current weeks. data_samples without its category column (no board-wide event is
planted: seasons, trend and Poisson noise; alerts clustered at seasonal onsets) gave 45 false alerts ≥ 预警 in
3,316 community-weeks (1.36 per 100), at a median expectation 0.58 × the generator's rate; now 15 (0.45) at the
same q and 28 (0.84) at the totals' new q ≤ 0.35 (:data:`TOTAL_THRESHOLDS`); the weekly expectation's log error
against the generator's rate has standard deviation 0.25 (was 0.40). teddycup 附件3 by area, no categories
(tuning / held-out): recall 0.809 / 0.766 at 0.394 / 0.405 false per 100 area-weeks → 0.804 / 0.771 at 0.333 /
0.330; Boston by neighbourhood 0.868 / 0.883 at 1.78 / 1.86 → 0.913 / 0.923 at 1.72 / 1.78; noise and trend
panels' totals no worse (docs/benchmarks.md, session 9b).

**The first year is not where totals' false alerts come from** (session 10). data_samples without its category
column gives 28 false alerts ≥ 预警 (q ≤ 0.35), 16 of them before week 60, where the seasonal factor is still the
pooled momentum — but 55 % of the tested community-weeks are there (0.87 against 0.81 per 100). A detector that
knows the generator's rates and tests them the same way (Poisson windows, discrete BH per week) gives 45 false
alerts on the same data (28 before week 60), and on Poisson draws of those rates 34 against the detector's 27:
within a week whose cells are all null, BH at q controls the chance of any alert at q, so on ~100 weekly families
q ≤ 0.35 buys about that many. The board's weekly expectation is off by 11 % (sd) in the first year, about the
momentum's own Poisson noise; turning the momentum off or shrinking it harder gives more false alerts, not fewer
(``benchmarks/bench_alerts.py --samples-only --no-categories --oracle``; docs/benchmarks.md).

``total_prior_strength`` (not the default): the ``k`` of the totals' level ``(S + k·prior)/(n + k)`` — a number,
or ``'auto'``: per period the ``k`` of :attr:`SurgeDetector.TOTAL_STRENGTH_GRID` whose one-step expectations of
the earlier tested group-periods had the smallest Poisson deviance (each cell's capped, past only; empirical Bayes
by prequential choice). It picks 64 on data_samples (stable Poisson rates: the long-run share is the better
guide), 2 on teddycup's areas (they drift) and 2–64 week to week on Boston's neighbourhoods; category cells are
untouched. Chosen ``k`` per period: ``total_prior_strength_``. Measured at equal false-alert rates (session 10):
data_samples totals 2/8 surges at 24 false alerts against 1/8 at 28 (q 0.35), the opposite-seasons panel
+0.01–0.02 recall, generated stable totals 38 against 25 hits of 72 at the same 29 false alerts; but teddycup
附件3 by area −0.007 to +0.010 and Boston the same recall at 0.07–0.17 more false alerts per 100: not the default.

``coverage='auto'`` (default): exports often hold a few stray records long before their real start
(附件3: 4 messages between 2017-06 and 2018-11, then ~90 a week from January 2019). Counted as
history they stretch every group's history with ~80 empty weeks: the first covered weeks look like a
surge of everything (one group, keyword categories: 37 category 告警) and, all year, ordinary words pass
as "rare before" (one group, no categories, terms alone: 6,636 term alerts ≥ 预警 against 230 without
the strays). Periods before the first one whose total reaches
``coverage_min_share`` (10 %) of the median non-empty period, and any lead-in that a lookback-long
empty gap separates from the rest while holding less than one median period's messages, are left
out, and so is a long thin lead-in with a few busier periods in it (:func:`govml.coverage.thin_lead_in`
against 10 % of the 90th-percentile total: 附件3 + 附件4, whose 2011–2018 messages are 0–15 a week
against ~70 in 2019, start in March 2017 instead of their first message);
``n_before_coverage_`` and ``coverage_start_`` say so, the log and the command line too.

Categories that start mid-series (``new_categories='watch'``, default)
----------------------------------------------------------------------
Real exports open new request types in the middle of the data (Boston 311, 2015: ``Fire Department``
and ``MBTA`` requests from the first blizzard week, a ``Survey`` in December, the ``Needle Program``
from May). Such a category has no baseline: its pooled share was ≈ 0, so its first weeks were tested
against an expectation of ≈ 0.0 messages and every group that used it was 告警 (88 of Boston's 459
alerts ≥ 预警, by neighbourhood × REASON). Now a category is **new** at period ``t`` while fewer than
``min_history`` periods have passed since its first message (any group): its cells are still tested
and may reach 关注 (the watch list says "this is new"), but never 预警/告警, they stay out of the
discrete-BH family, out of the dispersion fit, and no later window reaches back into those periods
(a window must start where the category already had ``min_history`` periods behind it). The category's
pooled share is counted among the messages **since its first period**, not since the data's start (a
service begun in week 40 of 60 had its share diluted by the 40 weeks before it: expectations ~20 %
short). Categories present from the first period are unchanged (teddycup 附件3, data_samples and the
noise panels give identical cells). ``new_categories='test'``: the behaviour before.

Rows without a category (session 9). A message whose category cell is empty (missing, ``''`` or spaces) is
not a category of its own: it was the category ``(空)``, tested like any other and, when an export stopped
filling the column mid-series, listed among the categories that start mid-series — a gap in the data
named as a new demand. Such rows are now counted (``n_no_category_``, logged) and left out of the category
cells and their word evidence; their words still count in the group's emerging terms. The pooled prior of a
category cell is then the group's volume of *categorised* messages × the category's share among them (so a
column filled for 70 % of the rows does not inflate every expectation). A column empty in every row is
treated as no category column (each group's total, ``全部``). Empty **groups** stay the group ``(空)``
(:data:`MISSING_KEY`, as `demands top` names them).

Options measured on Boston 311 (session 7, not the default)
-----------------------------------------------------------
* ``window_drift=True``: a 2- or 4-period window's expectation follows the category's pooled level
  (the other groups' mean over the lookback window) from the window's start to each of its periods:
  ``λ_s · Σ_u s_u · (P_u + m)/(P_s + m)`` instead of ``λ_s · Σ_u s_u`` (``m = season_shrink``). A
  level that keeps moving — a city-wide event going on, a trend — then no longer piles up in the longer
  windows; one group's own surge does not move the others' level. Measured: teddycup 附件3 cloned
  surges recall −0.01 to +0.01, false alerts −0.05 to −0.09 per 100 area-weeks; themed waves the same
  recall, false 0.68–0.71 → 0.60–0.64; data_samples 8/8, 0.21 → 0.18; pure noise Poisson 0.06 → 0.09,
  negative binomial 0.79 → 0.83; Boston 362 → 289 alerts ≥ 预警 in 1,154 neighbourhood-weeks, recall of
  cloned surges 0 to −0.06. The same trade-off as a stricter q on cloned surges: not the default.
* ``dispersion_by='category'``: ``α`` per category (:meth:`SurgeDetector._alpha_by_category`), the
  pooled ``α`` where categories swing alike (between-category variance 0), their own where they do
  not (Boston: internal work campaigns, graffiti and trees swing 3–10× more than housing or sanitation).
  ``alpha_by_category_`` holds it (the pooled ``α`` in every column by default). Measured: Boston
  362 → 335 alerts, recall of cloned surges within ±0.04; teddycup 附件3 recall −0.01 to +0.02, false
  −0.01 to +0.04 per 100; pure noise 0.06 → 0.09 and 0.79 → 0.85: not the default.
  (Both measured before the two gamma layers and 预警 at q ≤ 0.125.)

Option measured in session 8, not the default: a category's own tail
--------------------------------------------------------------------
``tail_calibration='category'``: a category whose counts routinely jump (Boston's staff work campaigns:
street cleaning, tree and highway work orders) needs a bigger jump. Every one-period cell of earlier
periods gives a mid-p z-score under its negative binomial; the category's ``tail_quantile`` (0.99) of
them, divided by the same quantile over all categories' cells, is its **tail scale** (at least 1,
``tail_floor``; 1 until ``tail_min_cells`` = 200 earlier cells; ``tail_scale_``), and each of its window
p-values becomes ``Φ̄(Φ̄⁻¹(p) / scale)`` (past only: the scale of period ``t`` uses periods before ``t``).
Categories that swing like the rest keep their p-values. Measured (docs/benchmarks.md, session 8):
Boston 311 339 → 258 alerts ≥ 预警 in 1,154 neighbourhood-weeks (real surges left out: 186 → 125;
scales up to 1.7: Trees, Operations, Street Cleaning), but recall of surges planted there −0.03 to
−0.26 (the planted surges are jumps of the size those categories make routinely); teddycup 附件3
recall −0.00 to −0.03, false −0.01 to −0.07 per 100; data_samples 8/8, 0.24 → 0.18; noise 0.69 → 0.49,
trend panels 0.77 → 0.62–0.66. Without the floor the calm categories' scales fall to ≈ 0.7 (the pool's
quantile is the bursty categories') and alerts rise (Boston 471); the 0.95 quantile loses a planted
surge of data_samples (7/8).

Evaluation (:func:`score_alerts`)
---------------------------------
An alert *covers* the periods of its window (``cells_['window']``: 1, 2 or 4 periods ending at
``period_start``). A planted surge (group, category and/or term, start, end) is **hit** when some
alert at level 预警 or 告警 names its group and its category (kind ``category``) or its term (kind
``term``; the alert's term may be the tokenizer's form of the planted wording: 违停 for 违章停车,
不热 for 暖气不热) and covers a period overlapping ``[start, end]``. A **false alert** is an alert at
level 预警 or 告警 that covers no planted period of its group, or a category alert whose category
is not planted in the periods it covers. Other known planted episodes (data_samples' hot issues)
may be passed as ``known_events``: alerts in their windows are genuine and neither hits nor false.
关注 is never counted. Recall = hit surges / planted surges; false alerts are given per 100 tested
group-periods (group × period with at least ``min_history`` periods of history).

How big a planted surge is matters more than anything else: :func:`plant_surges` adds
``max(min_extra, (factor − 1) × mean)`` messages a period and, with ``min_sd``, at least ``min_sd``
standard deviations of the cell's own counts per period; the truth table gives each surge's size in
those units (``size_sd``). On the real message board a surge of 2–3 of its cell's standard
deviations a week is inside the board's ordinary swing: benchmarks/bench_alerts.py measures recall
by size, beside an oracle that knows every cell's mean and deviation over the whole year.

``plant_surges(themed=True)`` plants a surge as a **themed wave** instead of random clones of the
cell: variations of one seed message of the cell (:func:`theme_variation`: its clauses each kept
with probability 0.7, half of them with a clause of another message of the cell appended), sized by
the same rules. The count evidence is the same as for clones; the words now surge too. The truth's
``term`` is the seed text, so a term alert hits when its key is one of the seed's words.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from govml._compat import FillsMissingParams
from govml.coverage import thin_lead_in
from govml.errors import ConfigError, DataError, Problem, cell_text
from govml.io import label_text

log = logging.getLogger(__name__)


OUTPUT_COLUMNS = ["group", "period_start", "kind", "key", "observed", "expected", "score", "p_value", "level"]
LEVELS = ("关注", "预警", "告警")
ALERT_LEVELS = ("预警", "告警")
#: The one "category" of a file without a category column (``unlabelled='total'``).
TOTAL_KEY = "全部"
MISSING_KEY = "(空)"  # an empty group cell, named as `demands top` names an empty group (an empty category: counted)
#: Threshold changes for the group totals (``unlabelled='total'``); ``thresholds=`` still overrides.
#: Re-checked under ``predictive='mixture'`` (session 8): q ≤ 0.27–0.30 gives back the 0.00–0.03 recall the
#: thicker tail cost on the area totals, but only at the false-alert rate of before or more (held-out 0.41 →
#: 0.44–0.48 per 100 area-weeks against 0.43 with ``'nb'``), so 0.25 stays (docs/benchmarks.md §Alerts).
#: ``predictive='nb'`` for the totals alone was measured in session 9 along both recall / false-alert curves
#: (``bench_alerts.py --no-categories --q-grid``): at the totals' noise false rate of the mixture at 0.25 (nb at
#: q 0.20–0.22) its recall is lower (−0.05 to +0.01); at the board's false rate it is +0.003 on average but its
#: noise false rate higher (0.45–0.49 against 0.43 per 100): not adopted, totals stay on the mixture.
#: Session 9b: with the totals' prior on the board (``total_prior='board'``) the curve moved (q 0.25: recall
#: 0.791 / 0.750 at 0.274 / 0.267 false per 100 area-weeks, tuning / held-out; before 0.809 / 0.766 at 0.394 / 0.405).
#: q re-chosen on the tuning seeds as the largest grid value (0.25, 0.3, 0.35, 0.4, 0.5) whose false rate stays
#: under the one before: 0.35 — 0.804 / 0.333 tuning, held-out 0.771 / 0.330; data_samples totals 0.84 per 100.
TOTAL_THRESHOLDS: dict[str, dict[str, float]] = {"预警": {"q": 0.35}}


def _is_default(value: object) -> bool:
    """``total_thresholds="default"``: :data:`TOTAL_THRESHOLDS` (a string, not the dict itself, as the default —
    scikit-learn's rule for parameters, ``check_parameters_default_constructible``; a detector saved while the
    default was the dict holds that dict, which reads the same)."""
    return isinstance(value, str) and value == "default"
_SEASON = {"W": 52, "M": 12}
_LOOKBACK = {"W": 8, "M": 6}


def period_start(times: pd.Series, period: str) -> pd.Series:
    """Start of the period each timestamp falls in: Monday 00:00 for ``W``, the 1st for ``M``. Times that carry a
    time zone (Arrow timestamps with a zone, UTC) are read on Beijing's clock first, as everywhere in govml."""
    from govml.io import beijing_clock

    t = beijing_clock(pd.to_datetime(times))
    if period == "W":
        return (t - pd.to_timedelta(t.dt.day_of_week, unit="D")).dt.normalize()
    if period == "M":
        return t.dt.to_period("M").dt.start_time
    raise ConfigError(f"period must be 'W' or 'M', got {period!r}")


def _period_index(starts: pd.Series, period: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    freq = "W-MON" if period == "W" else "MS"
    if len(starts) == 0:  # an empty table (a filter that kept nothing): no periods
        return np.zeros(0, dtype=np.intp), pd.DatetimeIndex([], dtype="datetime64[ns]")
    rng = pd.date_range(starts.min(), starts.max(), freq=freq)
    pos = rng.get_indexer(pd.DatetimeIndex(starts))
    return pos, rng


def _nb_sf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """P(Y >= y) for a negative binomial with mean mu and variance mu + alpha·mu²."""
    from scipy import stats

    y = np.asarray(y, dtype=float)
    mu = np.maximum(np.asarray(mu, dtype=float), 1e-9)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape)
    size = 1.0 / np.maximum(alpha, 1e-9)
    p = size / (size + mu)
    out = stats.nbinom.sf(y - 1, size, p)
    return np.where(y <= 0, 1.0, out)


def _nb_gamma_sf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray, phi: np.ndarray, level_var: np.ndarray,
                 nodes: int = 24) -> np.ndarray:
    """P(Y ≥ y) when ``Y | x`` is negative binomial with mean ``mu·x`` and variance ``mu·x(1 + φ) + α(mu·x)²``
    and the level factor ``x`` is Gamma with mean 1 and relative variance ``level_var``.

    Two gamma layers: the period's own overdispersion (``α``) and the uncertainty of the estimated level.
    Folding both into one negative binomial with the summed relative variance keeps the variance but
    thins the upper tail (at p ≈ 1e-3 the product's tail is 1.4–1.7 times the single layer's). The
    integral over ``x`` is a Gauss–Hermite rule in ``log x`` around a normal matched to ``log x``'s mean
    and variance (widened 1.5×), reweighted to the gamma density and normalised per cell."""
    from scipy import special

    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    shape = 1.0 / np.maximum(np.asarray(level_var, dtype=float), 1e-9)
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    m = special.digamma(shape) - np.log(shape)
    sd = 1.5 * np.sqrt(special.polygamma(1, shape))
    z = np.clip(m[:, None] + sd[:, None] * t[None, :], -30.0, 30.0)
    # log gamma density of z = log x (x ~ Gamma(shape, 1/shape)) minus the normal proposal's, up to constants
    logw = (shape[:, None] * (z + np.log(shape)[:, None]) - shape[:, None] * np.exp(z)
            + 0.5 * t[None, :] ** 2 + np.log(w)[None, :])
    logw -= logw.max(axis=1, keepdims=True)
    wt = np.exp(logw)
    wt /= wt.sum(axis=1, keepdims=True)
    mx = mu[:, None] * np.exp(z)
    a = np.asarray(alpha, dtype=float)[:, None] + np.asarray(phi, dtype=float)[:, None] / np.maximum(mx, 1e-9)
    sf = _nb_sf(np.broadcast_to(y[:, None], mx.shape), mx, a)
    return np.minimum(1.0, (wt * sf).sum(axis=1))


@functools.lru_cache(maxsize=16)
def _window_max_table(windows: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Multiplier ``m(z) = P(max_w Z_w ≥ z) / P(Z ≥ z)`` for nested windows of a Gaussian random walk.

    ``Z_w = S_w / √w`` with ``S_w`` the sum of the last ``w`` of i.i.d. standard normal increments:
    the z-scores of windows ending at the same period, correlated ``√(w/w')``. Computed by
    propagating the density of ``S`` not yet past its threshold from one window length to the next.
    """
    from scipy import stats

    zs = np.linspace(0.0, 9.0, 91)
    mult = np.ones(len(zs))
    if len(windows) < 2:
        return zs, mult
    h = 0.01
    for i, z in enumerate(zs):
        w0 = windows[0]
        lo = -9.0 * np.sqrt(windows[-1])
        grid = np.arange(lo, z * np.sqrt(w0), h)
        dens = stats.norm.pdf(grid, scale=np.sqrt(w0))          # S_w0 below its threshold
        tail = stats.norm.sf(z)
        for w_prev, w in zip(windows[:-1], windows[1:], strict=True):
            sd = np.sqrt(w - w_prev)
            thr = z * np.sqrt(w)
            tail += float(np.sum(dens * stats.norm.sf((thr - grid) / sd)) * h)
            new = np.arange(lo, thr, h)
            k = np.arange(-int(9 * sd / h), int(9 * sd / h) + 1) * h
            conv = np.convolve(dens, stats.norm.pdf(k, scale=sd) * h)     # on grid[0] + k[0] + j·h
            start = grid[0] + k[0]
            j0 = int(round((new[0] - start) / h))
            vals = conv[max(j0, 0): max(j0, 0) + len(new)]
            dens = np.zeros(len(new))
            dens[max(-j0, 0): max(-j0, 0) + len(vals)] = vals[: len(new) - max(-j0, 0)]
            grid = new
        mult[i] = tail / stats.norm.sf(z)
    return zs, np.clip(mult, 1.0, float(len(windows)))


def window_max_pvalue(p_min: np.ndarray, windows: Sequence[int]) -> np.ndarray:
    """P-value of the smallest of the window p-values (windows of 1, 2, 4 … periods ending at the
    same period): ``P(min_w p_w ≤ p_min)`` under the null, with the windows' dependence taken from
    nested sums of independent periods (Gaussian approximation, correlation ``√(w/w')``). Between
    ``p_min`` (one window) and ``len(windows) · p_min`` (Bonferroni)."""
    from scipy import stats

    p_min = np.asarray(p_min, dtype=float)
    ws = tuple(sorted(set(int(w) for w in windows)))
    zs, mult = _window_max_table(ws)
    z = stats.norm.isf(np.clip(p_min, 1e-300, 1.0))
    m = np.interp(z, zs, mult)
    return np.minimum(1.0, p_min * m)


def _attainable_tail_sums(mu: np.ndarray, size: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Σ_i F_i(t)`` for every threshold ``t`` in ``u``, where ``F_i(t)`` is the largest upper-tail
    probability ``P(Y_i > k)`` (k = 0, 1, …) of cell ``i``'s negative binomial that is ``≤ t`` (0 if none).

    Each cell's attainable tail probabilities are computed once, for ``k`` from 0 to the first ``k``
    whose tail is ``≤ min(u)`` (one ``isf`` per cell); ``F_i`` is then a sum of the increments between
    consecutive attainable values at or below ``t``, so all cells and thresholds are answered by one
    sort and one ``searchsorted`` (a cell × threshold ``isf`` grid was 90 % of a fit on 88k messages).
    """
    from scipy import stats

    pr = size / (size + mu)
    kmax = stats.nbinom.isf(float(np.min(u)), size, pr)            # smallest k with P(Y > k) ≤ min(u)
    kmax = np.where(np.isfinite(kmax), kmax, 0).astype(np.int64)
    n_k = kmax + 1
    cell = np.repeat(np.arange(len(mu)), n_k)
    k = np.arange(int(n_k.sum())) - np.repeat(np.cumsum(n_k) - n_k, n_k)
    v = stats.nbinom.sf(k, size[cell], pr[cell])                   # decreasing in k within a cell
    v = np.where(np.isfinite(v), v, 0.0)
    # ascending within each cell: increments between consecutive attainable values (first from 0)
    order = np.lexsort((v, cell))
    v, cell = v[order], cell[order]
    d = np.diff(v, prepend=0.0)
    d[np.r_[True, cell[1:] != cell[:-1]]] = v[np.r_[True, cell[1:] != cell[:-1]]]
    by_v = np.argsort(v, kind="stable")
    csum = np.concatenate([[0.0], np.cumsum(d[by_v])])
    # "≤ t" up to rounding: a threshold is a cell's own p-value, computed on another path; its attainable value could
    # come out a few ulps above it, or below, depending on the order of the groups' sums (renaming the groups moved
    # q-values by up to 9e-4 on data_samples)
    return csum[np.searchsorted(v[by_v], u * (1.0 + 1e-9), side="right")]


def discrete_bh_qvalues(p: np.ndarray, null: Sequence[tuple[np.ndarray, np.ndarray]],
                        p_max: float = 0.1) -> np.ndarray:
    """Benjamini–Hochberg for discrete tests (Heyse 2011; Döhler, Durand & Roquain 2018).

    ``p`` are Bonferroni-corrected minima over windows, ``null`` gives per window the negative
    binomial (mean, dispersion) of each cell (NaN: window not tested). BH's ``m·t`` (the expected
    number of null p-values ≤ t) is replaced by ``H(t) = Σ_i F_i(t)``, ``F_i(t) ≤ Σ_w P(p_iw ≤ t/W)``,
    the largest tail probability the cell's counts can actually reach below ``t/W``: a cell that
    expects 0.05 messages cannot produce most small p-values, so thin cells cost the family little
    and cells without messages may stay in it. ``H(t) ≤ m·t``, so q-values never exceed BH's.
    Thresholds above ``p_max`` use ``m·t``.
    """

    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    W = max(len(null), 1)
    order = np.argsort(p)
    ps = p[order]
    H = ps * m
    small = np.flatnonzero(ps <= p_max)
    if len(small):
        u = ps[small] / W                                                  # per-window thresholds
        Hs = np.zeros(len(small))
        for e, a in null:
            ok = np.isfinite(e)
            if not ok.any():
                continue
            Hs += _attainable_tail_sums(np.maximum(e[ok], 1e-9), 1.0 / np.maximum(a[ok], 1e-9), u)
        H[small] = np.minimum(Hs, H[small])
    ranked = H / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of one family."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


class SurgeDetector(FillsMissingParams, BaseEstimator):
    """Category surges and emerging terms per group and period (see the module docstring).

    ``fit(df)`` takes a message table with ``time_col``, ``by`` (the group) and, when present,
    ``label_col`` (categories) and ``text_col`` (for terms). Learned: ``cells_`` (every tested
    cell with observed, expected, alpha, p_value, q_value, score, level), ``alerts_`` (the cells
    at a level, columns :data:`OUTPUT_COLUMNS`), ``n_group_periods_`` (tested group-periods),
    ``periods_`` (the period starts), ``alpha_`` (overdispersion per period), ``n_no_category_`` (rows
    whose category cell is empty: not tested as a category), ``new_categories_``.
    """

    def __init__(
        self,
        *,
        by: str = "community",
        label_col: str | None = "category",
        time_col: str = "created_at",
        text_col: str | None = "text",
        period: str = "W",
        terms: bool = True,
        tokenizer: Callable[[str], list[str]] | None = None,
        lookback: int | None = None,
        min_history: int = 4,
        prior_strength: float = 4.0,
        seasonal: bool = True,
        season_shrink: float = 10.0,
        alpha_floor: float = 0.05,
        alpha_outlier_p: float = 0.001,
        alpha_prior: float = 0.3,
        alpha_prior_periods: float = 8.0,
        term_alpha_floor: float = 0.3,
        term_min_count: int = 4,
        term_rare_max: float = 0.25,
        term_min_history: int = 12,
        term_max_share: float = 0.02,
        family_min_count: int | None = 1,
        windows: Sequence[int] = (1, 2, 4),
        momentum: bool = True,
        thresholds: dict[str, dict[str, float]] | None = None,
        term_thresholds: dict[str, dict[str, float]] | None = None,
        dedupe_terms: bool = True,
        dedupe_overlap: float = 0.6,
        window_correction: str = "bonferroni",
        momentum_loo: bool = True,
        dispersion: str = "nb12",
        fdr: str = "discrete",
        phi_prior: float = 0.0,
        ongoing: bool = True,
        prior: str = "pooled",
        dispersion_fit: str = "wls",
        dispersion_refit: int = 4,
        evidence: str = "gated",
        combined_ratio: float = 1.5,
        combined_thresholds: dict[str, float] | None = None,
        gate_p: float = 0.05,
        gate_term_p: float = 1e-12,
        term_levels: str = "watch",
        unlabelled: str = "total",
        coverage: str | None = "auto",
        coverage_min_share: float = 0.1,
        total_thresholds: dict[str, dict[str, float]] | str | None = "default",
        new_categories: str = "watch",
        dispersion_by: str | None = None,
        window_drift: bool = False,
        predictive: str = "mixture",
        tail_calibration: str | None = None,
        tail_quantile: float = 0.99,
        tail_min_cells: int = 200,
        tail_floor: float = 1.0,
        total_prior: str = "board",
        total_prior_strength: float | str | None = None,
        total_strength_cap: float = 10.0,
        total_strength_min: int = 8,
    ) -> None:
        self.total_prior = total_prior
        self.total_prior_strength = total_prior_strength
        self.total_strength_cap = total_strength_cap
        self.total_strength_min = total_strength_min
        self.tail_floor = tail_floor
        self.predictive = predictive
        self.tail_calibration = tail_calibration
        self.tail_quantile = tail_quantile
        self.tail_min_cells = tail_min_cells
        self.window_drift = window_drift
        self.dispersion_by = dispersion_by
        self.new_categories = new_categories
        self.total_thresholds = total_thresholds
        self.unlabelled = unlabelled
        self.coverage = coverage
        self.coverage_min_share = coverage_min_share
        self.term_levels = term_levels
        self.evidence = evidence
        self.gate_p = gate_p
        self.gate_term_p = gate_term_p
        self.combined_ratio = combined_ratio
        self.combined_thresholds = combined_thresholds
        self.dispersion_fit = dispersion_fit
        self.dispersion_refit = dispersion_refit
        self.ongoing = ongoing
        self.prior = prior
        self.window_correction = window_correction
        self.momentum_loo = momentum_loo
        self.dispersion = dispersion
        self.fdr = fdr
        self.phi_prior = phi_prior
        self.dedupe_terms = dedupe_terms
        self.dedupe_overlap = dedupe_overlap
        self.term_thresholds = term_thresholds
        self.family_min_count = family_min_count
        self.windows = windows
        self.momentum = momentum
        self.by = by
        self.label_col = label_col
        self.time_col = time_col
        self.text_col = text_col
        self.period = period
        self.terms = terms
        self.tokenizer = tokenizer
        self.lookback = lookback
        self.min_history = min_history
        self.prior_strength = prior_strength
        self.seasonal = seasonal
        self.season_shrink = season_shrink
        self.alpha_floor = alpha_floor
        self.alpha_outlier_p = alpha_outlier_p
        self.alpha_prior = alpha_prior
        self.alpha_prior_periods = alpha_prior_periods
        self.term_alpha_floor = term_alpha_floor
        self.term_min_count = term_min_count
        self.term_rare_max = term_rare_max
        self.term_min_history = term_min_history
        self.term_max_share = term_max_share
        self.thresholds = thresholds

    DEFAULT_THRESHOLDS = {
        "告警": {"q": 0.01, "ratio": 3.0, "min_count": 6},
        "预警": {"q": 0.125, "ratio": 2.0, "min_count": 4},
        "关注": {"p": 0.01, "ratio": 1.5, "min_count": 3},
    }
    #: Emerging terms are many and come in bursts of copied wording: a stricter bar.
    DEFAULT_TERM_THRESHOLDS = {
        "告警": {"q": 0.001, "ratio": 5.0, "min_count": 6},
        "预警": {"q": 0.01, "ratio": 3.0, "min_count": 4},
        "关注": {"p": 0.001, "ratio": 3.0, "min_count": 4},
    }

    # -----------------------------------------------------------------------------------------
    def _validate(self, df: pd.DataFrame) -> pd.Series:
        if self.period not in ("W", "M"):
            raise ConfigError(f"period must be 'W' or 'M', got {self.period!r}")
        missing = [c for c in (self.time_col, self.by) if c not in df.columns]
        if missing:
            raise DataError([Problem("<input>", None, c, "a column of this name") for c in missing],
                            message=f"alerts: missing column(s) {', '.join(missing)} "
                                    f"(have: {', '.join(map(str, df.columns))})")
        from govml.io import beijing_clock

        times = beijing_clock(pd.to_datetime(df[self.time_col], errors="coerce", format="mixed"))
        bad = np.flatnonzero(times.isna().to_numpy())
        if len(bad):
            from govml.io import source_rows

            file, user_rows = df.attrs.get("govml", {}).get("file", "<input>"), source_rows(df)
            raise DataError([Problem(file, user_rows[r], self.time_col, "a date/time",
                                     cell_text(df[self.time_col].iloc[r])) for r in bad[:20]],
                            truncated=len(bad) > 20)
        return times

    def _thresholds(self, kind: str = "category") -> dict[str, dict[str, float]]:
        if kind == "term":
            return {k: {**v, **((self.term_thresholds or {}).get(k, {}))}
                    for k, v in self.DEFAULT_TERM_THRESHOLDS.items()}
        base = self.DEFAULT_THRESHOLDS
        if getattr(self, "_total_mode", False):
            extra = self.total_thresholds
            if isinstance(extra, str) and not _is_default(extra):
                raise ConfigError(f"total_thresholds: expected 'default', None or a dict of levels, found {extra!r}")
            extra = TOTAL_THRESHOLDS if _is_default(extra) else (extra or {})
            base = {k: {**v, **extra.get(k, {})} for k, v in base.items()}
        return {k: {**v, **((self.thresholds or {}).get(k, {}))} for k, v in base.items()}

    def _family_min(self) -> int:
        """Cells below the smallest alert minimum count cannot become 预警/告警 and are not tested."""
        if self.family_min_count is not None:
            return int(self.family_min_count)
        th = self._thresholds()
        return int(min(th["预警"]["min_count"], th["告警"]["min_count"]))

    def _levels(self, obs: np.ndarray, exp: np.ndarray, p: np.ndarray, q: np.ndarray,
                kind: str = "category") -> np.ndarray:
        th = self._thresholds(kind)
        ratio = obs / np.maximum(exp, 1e-9)
        level = np.full(len(obs), "", dtype=object)
        w = th["关注"]
        level[(p <= w["p"]) & (ratio >= w["ratio"]) & (obs >= w["min_count"])] = "关注"
        for name in ("预警", "告警"):
            t = th[name]
            level[(q <= t["q"]) & (ratio >= t["ratio"]) & (obs >= t["min_count"])] = name
        return level

    def _covered(self, df: pd.DataFrame, times: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
        """Leave out a sparse lead-in before the data's real coverage (``coverage='auto'``).

        Exports often hold a few stray old records (附件3: 4 messages in 2017–2018, then ~90 a week from
        January 2019). Counted as history they make the first covered periods look like a surge of
        everything. The coverage starts at the first period whose total reaches ``coverage_min_share``
        of the median total of the non-empty periods, and after any run of empty periods as long as the
        lookback window that follows less than one median period's messages; earlier rows are left out
        of the fit, counted in ``n_before_coverage_`` and logged."""
        self.coverage_start_ = None
        self.n_before_coverage_ = 0
        if self.coverage in (None, "all"):
            return df, times
        if self.coverage != "auto":
            raise ConfigError(f"coverage must be 'auto', 'all' or None, got {self.coverage!r}")
        if not len(df):
            return df, times
        starts = period_start(times, self.period)
        tpos, periods = _period_index(starts, self.period)
        totals = np.bincount(tpos, minlength=len(periods)).astype(float)
        floor = self.coverage_min_share * float(np.median(totals[totals > 0]))
        first = int(np.argmax(totals >= floor))
        # ... and a long thin lead-in with a few busier periods in it (years of a barely used board before it
        # became the channel): the median above is then set by the lead-in itself, so the lead-in is judged
        # against the busy level (the 90th percentile of the totals), isolated busy periods tolerated
        first = max(first, thin_lead_in(totals, self.coverage_min_share * float(np.quantile(totals, 0.9))))
        # ... and a lead-in cut off by a gap of a whole lookback window, holding less than a typical period
        lookback = int(self.lookback or _LOOKBACK[self.period])
        empty_run = 0
        for t in range(len(periods)):
            empty_run = empty_run + 1 if totals[t] == 0 else 0
            if empty_run >= lookback and totals[:t].sum() < floor / self.coverage_min_share:
                first = max(first, int(np.argmax(totals[t:] > 0)) + t)
        start = periods[first]
        before = (starts < start).to_numpy()
        if before.any():
            self.coverage_start_ = pd.Timestamp(start)
            self.n_before_coverage_ = int(before.sum())
            log.warning("alerts: %d message(s) from %s to %s lie before the data's coverage (periods with "
                        "at least %.1f messages start at %s) and are left out of the baselines",
                        self.n_before_coverage_, times[before].min(), times[before].max(), floor,
                        self.coverage_start_.date())
            df = df.loc[~before]
            times = times.loc[~before]
        return df, times

    def fit(self, df: pd.DataFrame, y: object = None) -> SurgeDetector:
        times = self._validate(df)
        if not len(df):  # an empty table (a filter that kept nothing): one clear error, not numpy's
            raise DataError(message=f"alerts: the table has no rows (columns {', '.join(map(str, df.columns))}); "
                                    "expected one row per message")
        df, times = self._covered(df, times)
        if self.unlabelled not in ("total", "terms"):
            raise ConfigError(f"unlabelled must be 'total' or 'terms', got {self.unlabelled!r}")
        label_col = self.label_col
        self._total_mode = False
        self.total_prior_strength_ = None
        # rows with an empty category cell are not a category of their own (not a demand, and not "new" when
        # the export stops filling the column): counted, left out of the category cells
        self.n_no_category_ = 0
        no_cat = np.zeros(len(df), bool)
        if label_col and label_col in df.columns:
            cat_text = df[label_col].astype("string")
            no_cat = (cat_text.isna() | cat_text.str.strip().eq("")).fillna(True).to_numpy(bool)
            self.n_no_category_ = int(no_cat.sum())
            if len(df) and no_cat.all():
                log.warning("alerts: the category column %r is empty in every row: each group's total is tested",
                            label_col)
                label_col = None
                no_cat = np.zeros(len(df), bool)
            elif self.n_no_category_:
                log.warning("alerts: %d message(s) have no %r: they count in their group's terms but are not "
                            "tested as a category", self.n_no_category_, label_col)
        if not (label_col and label_col in df.columns) and self.unlabelled == "total":
            self._total_mode = True
            # no categories: each group's total is the one "category", 全部 (its terms then back it up)
            label_col = "_govml_all"
            df = df.assign(**{label_col: TOTAL_KEY})
        P = self.period
        L = int(self.lookback or _LOOKBACK[P])
        starts = period_start(times, P)
        tpos, periods = _period_index(starts, P)
        T = len(periods)
        groups_ser = label_text(df[self.by]).fillna(MISSING_KEY)
        gcodes, groups = pd.factorize(groups_ser, sort=True)
        G = len(groups)
        self.periods_ = periods
        self.groups_ = list(groups)
        self.phi_ = pd.Series(0.0, index=periods, name="phi")

        # group totals and tested group-periods ---------------------------------------------
        tot = np.zeros((G, T))
        np.add.at(tot, (gcodes, tpos), 1)
        first = np.argmax(tot > 0, axis=1) if G else np.zeros(0, int)
        hist = np.arange(T)[None, :] - first[:, None]          # periods of history before t
        tested = hist >= self.min_history                        # G x T
        self.n_group_periods_ = int(tested.sum())
        win_n = np.clip(np.minimum(hist, L), 0, None).astype(float)  # periods in the lookback window
        ctot = np.concatenate([np.zeros((G, 1)), np.cumsum(tot, axis=1)], axis=1)  # ctot[:, t] = sum < t
        lo = np.clip(np.arange(T) - L, 0, None)
        vol_sum = ctot[:, np.arange(T)] - ctot[:, lo]            # group messages in window
        V = np.divide(vol_sum, win_n, out=np.zeros_like(vol_sum), where=win_n > 0)

        frames = []
        alpha_by_t = np.full(T, self.alpha_floor)
        has_labels = bool(label_col) and label_col in df.columns
        self.has_categories_ = has_labels and label_col == self.label_col
        self.new_categories_ = {}
        has_cat = ~no_cat
        if has_labels:
            ccodes, cats = pd.factorize(df[label_col].astype("string")[has_cat], sort=True)
            Vc = V
            if not has_cat.all():
                # the pooled prior is the group's volume × the category's share among categorised messages:
                # the volume is the categorised messages' too
                tot_c = np.zeros((G, T))
                np.add.at(tot_c, (gcodes[has_cat], tpos[has_cat]), 1)
                cc = np.concatenate([np.zeros((G, 1)), np.cumsum(tot_c, axis=1)], axis=1)
                Vc = np.divide(cc[:, np.arange(T)] - cc[:, lo], win_n, out=np.zeros((G, T)), where=win_n > 0)
            if self._total_mode:
                Vc = self._total_prior_volume(tot, first, lo, win_n, V)
            frames.append(self._category_cells(gcodes[has_cat], ccodes, tpos[has_cat], list(cats), G, T, L, tested,
                                               win_n, Vc, lo, alpha_by_t, hist))
        if self.term_levels not in ("full", "watch"):
            raise ConfigError(f"term_levels must be 'full' or 'watch', got {self.term_levels!r}")
        if self.evidence not in ("category", "combined", "gated"):
            raise ConfigError(f"evidence must be 'category', 'combined' or 'gated', got {self.evidence!r}")
        has_text = bool(self.text_col) and self.text_col in df.columns
        self._tokens = None
        if self.terms and has_text:
            frames.append(self._term_cells(df[self.text_col], gcodes, tpos, G, T, L, tested, win_n, V,
                                           alpha_by_t, hist))
        combined = None
        if self.evidence in ("combined", "gated") and has_labels and has_text and len(frames) and len(frames[0]):
            full_tokens = self._tokens
            if full_tokens is not None and not has_cat.all():
                self._tokens = [tok for tok, k in zip(full_tokens, has_cat, strict=True) if k]
            combined = self._cell_term_evidence(df[self.text_col][has_cat], gcodes[has_cat], ccodes, tpos[has_cat],
                                                G, len(cats), T, L, tested, win_n, alpha_by_t, hist)
            self._tokens = full_tokens
        self.alpha_ = pd.Series(alpha_by_t, index=periods, name="alpha")
        cols = ["group", "period_start", "kind", "key", "observed", "expected", "baseline", "alpha", "p_value",
                "q_value", "score", "level", "window", "related", "family"]
        if combined is not None:
            cols += ["p_term", "p_combined", "q_combined"]
        cells = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
            else pd.DataFrame(columns=cols)
        if len(cells):
            cells["group"] = np.asarray(groups, dtype=object)[cells["g"].to_numpy()]
            cells["period_start"] = periods[cells["t"].to_numpy()]
            q = np.ones(len(cells))
            fam = cells["family"].to_numpy(bool)
            null = self._category_null(len(cells)) if self.fdr == "discrete" else None
            for (_, kind), idx in cells[fam].groupby(["t", "kind"]).indices.items():
                rows = np.flatnonzero(fam)[idx]
                if kind == "category" and null is not None:
                    q[rows] = discrete_bh_qvalues(cells["p_value"].to_numpy()[rows],
                                                  [(e[rows], a[rows]) for e, a in null])
                else:
                    q[rows] = bh_qvalues(cells["p_value"].to_numpy()[rows])
            cells["q_value"] = q
            cells["score"] = -np.log10(np.maximum(q, 1e-300))
            level = np.full(len(cells), "", dtype=object)
            for kind in ("category", "term"):
                sel = (cells["kind"] == kind).to_numpy()
                if sel.any():
                    level[sel] = self._levels(cells["observed"].to_numpy(float)[sel],
                                              cells["expected"].to_numpy(float)[sel],
                                              cells["p_value"].to_numpy(float)[sel], q[sel], kind)
            if "_new" in cells.columns:
                # a category without min_history periods behind it: a watch-list entry, never an alert
                young = cells["_new"].fillna(False).to_numpy(bool)
                level[young & np.isin(level, ALERT_LEVELS)] = "关注"
            cells["level"] = level
            cells["related"] = ""
            if self.dedupe_terms and (cells["kind"] == "term").any():
                self._dedupe_terms(cells)
            if combined is not None:
                self._combine(cells, combined, list(cats))
            if self.term_levels == "watch" and has_labels:
                # term cells stay on the watch list: their evidence reaches 预警 only through a category
                lv = cells["level"].to_numpy(object)
                lv[(cells["kind"] == "term").to_numpy() & np.isin(lv, ALERT_LEVELS)] = "关注"
                cells["level"] = lv
        self.cells_ = cells.reindex(columns=cols)
        al = self.cells_[self.cells_["level"].fillna("") != ""].copy()
        sev = al["level"].map({"告警": 0, "预警": 1, "关注": 2})
        al = al.assign(_sev=sev).sort_values(["period_start", "_sev", "score", "group", "key"],
                                             ascending=[True, True, False, True, True], kind="stable")
        al["expected"] = al["expected"].astype(float).round(3)
        al["score"] = al["score"].astype(float).round(3)
        self.alerts_ = al[OUTPUT_COLUMNS].reset_index(drop=True)
        return self

    def _dedupe_terms(self, cells: pd.DataFrame) -> None:
        """One burst of near-identical messages makes every one of its words "emerging". Within a
        group-period, a term alert whose messages are mostly (≥ ``dedupe_overlap`` of the smaller
        set) those of a stronger term alert is folded into it: its level is cleared and its term is
        listed in the stronger alert's ``related``."""
        lv = cells["level"].to_numpy(object).copy()
        rel = cells["related"].to_numpy(object).copy()
        pos = np.flatnonzero(((cells["kind"] == "term") & (cells["level"] != "")).to_numpy())
        if len(pos):
            g = cells["g"].to_numpy()[pos].astype(np.int64)
            t = cells["t"].to_numpy()[pos].astype(np.int64)
            win = cells["window"].to_numpy()[pos].astype(np.int64)
            key = cells["key"].to_numpy(object)[pos].astype(str)
            score = cells["score"].to_numpy(float)[pos]
            observed = cells["observed"].to_numpy(float)[pos]
            length = np.array([len(k) for k in key])
            # the occurrences of the alerted (group, term) pairs only, as arrays per pair
            occ = self._term_occ
            want = pd.MultiIndex.from_arrays([g, key])
            have = pd.MultiIndex.from_arrays([occ["g"].to_numpy().astype(np.int64), occ["term"].astype(str).to_numpy()])
            sub = occ[have.isin(want)]
            occ_t = sub["t"].to_numpy()
            occ_i = sub["i"].to_numpy()
            by_pair = sub.groupby([sub["g"].astype(np.int64), sub["term"].astype(str)]).indices
            # per group-period, strongest first; among equals the longer (more specific) term:
            # 飞线充电 before 危险 (a stable sort keeps the table's order among full ties)
            order = np.lexsort((-length, -observed, -score, t, g))
            start = 0
            while start < len(order):
                stop = start
                while stop < len(order) and g[order[stop]] == g[order[start]] and t[order[stop]] == t[order[start]]:
                    stop += 1
                kept: list[tuple[int, set[int]]] = []
                for j in order[start:stop]:
                    ix = by_pair.get((int(g[j]), key[j]), np.empty(0, dtype=np.int64))
                    tt = occ_t[ix]
                    msgs = set(occ_i[ix][(tt >= t[j] - win[j] + 1) & (tt <= t[j])].tolist())
                    folded = False
                    for k_pos, k_msgs in kept:
                        inter = len(msgs & k_msgs)
                        if inter and inter / max(min(len(msgs), len(k_msgs)), 1) >= self.dedupe_overlap:
                            lv[pos[j]] = ""
                            rel[k_pos] = (rel[k_pos] + "、" if rel[k_pos] else "") + key[j]
                            folded = True
                            break
                    if not folded:
                        kept.append((int(pos[j]), msgs))
                start = stop
        cells["level"] = lv
        cells["related"] = rel

    def _total_prior_volume(self, tot: np.ndarray, first: np.ndarray, lo: np.ndarray, win_n: np.ndarray,
                            V: np.ndarray) -> np.ndarray:
        """The pooled prior rate of each group's total (``total_prior='board'``): the group's share of the board.

        A category cell shrinks toward the group's recent volume × the category's share of all past messages;
        a group's total is its own recent volume, so that prior was the level itself (``'own'``, before): no
        shrinkage, and the level's uncertainty counted ``k`` periods that were not there. The mirror image is
        the board's volume over the same lookback periods × the group's share of the board's messages since
        the group's first period (past only; smoothed toward ``1/G``): a level that came out low by chance
        leans on the group's long-run place in the board's current weeks.
        """
        if self.total_prior not in ("board", "own"):
            raise ConfigError(f"total_prior must be 'board' or 'own', got {self.total_prior!r}")
        G, T = tot.shape
        if self.total_prior == "own" or G == 0:
            return V
        board = np.concatenate([[0.0], np.cumsum(tot.sum(axis=0))])              # board[t] = messages < t
        cg = np.concatenate([np.zeros((G, 1)), np.cumsum(tot, axis=1)], axis=1)   # cg[:, t] = group's < t
        t_ar = np.arange(T)
        since = board[t_ar][None, :] - board[np.minimum(first, T)][:, None]     # board since the group began
        share = (cg[:, t_ar] + 0.5) / (np.clip(since, 0, None) + 0.5 * G)
        w0 = np.maximum(lo[None, :], first[:, None])                              # the group's lookback window
        b_win = board[t_ar][None, :] - board[np.minimum(w0, t_ar[None, :])]
        v_board = np.divide(b_win, win_n, out=np.zeros((G, T)), where=win_n > 0)
        return share * v_board

    #: The prior strengths (periods) among which ``total_prior_strength='auto'`` chooses.
    TOTAL_STRENGTH_GRID = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

    def _total_strength(self, Y: np.ndarray, S: np.ndarray, prior: np.ndarray, season: np.ndarray,
                        win_n: np.ndarray, tested: np.ndarray) -> np.ndarray:
        """Per period, the prior strength ``k`` (periods) of the groups' totals (``total_prior_strength``).

        A number: that ``k`` throughout. ``'auto'``: empirical Bayes by prequential choice — for each ``k`` of
        :attr:`TOTAL_STRENGTH_GRID` the one-step expectations ``(S + k·prior)/(n + k) × s`` of every earlier tested
        group-period are scored by their Poisson deviance (each cell's capped at ``total_strength_cap``, so a
        past surge does not decide), and period ``t`` takes the ``k`` with the smallest sum over periods before
        ``t`` (``prior_strength`` until ``total_strength_min`` periods have been scored)."""
        G, T = Y.shape
        v = self.total_prior_strength
        if not isinstance(v, str):
            v = float(v)
            if not v > 0:
                raise ConfigError(f"total_prior_strength must be > 0, None or 'auto', got {self.total_prior_strength!r}")
            return np.full(T, v)
        if v != "auto":
            raise ConfigError(f"total_prior_strength must be > 0, None or 'auto', got {v!r}")
        grid = np.asarray(self.TOTAL_STRENGTH_GRID, dtype=float)
        dev = np.zeros((len(grid), T))
        for i, kv in enumerate(grid):
            m = np.maximum((S + kv * prior) / (win_n + kv) * season, 1e-9)
            d = 2.0 * (np.where(Y > 0, Y * np.log(np.maximum(Y, 1e-300) / m), 0.0) - (Y - m))
            dev[i] = np.where(tested, np.minimum(d, self.total_strength_cap), 0.0).sum(axis=0)
        past = np.concatenate([np.zeros((len(grid), 1)), np.cumsum(dev, axis=1)[:, :-1]], axis=1)
        n_scored = np.concatenate([[0], np.cumsum(tested.any(axis=0))[:-1]])
        best = grid[np.argmin(past, axis=0)]
        return np.where(n_scored >= self.total_strength_min, best, float(self.prior_strength))

    def _category_null(self, n_rows: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per window, (expected, dispersion) of every category cell (NaN where the window is not
        tested); category cells are the first rows of ``cells``."""
        out = []
        for idx, e, a in getattr(self, "_null", []):
            ee, aa = np.full(n_rows, np.nan), np.full(n_rows, np.nan)
            ee[idx], aa[idx] = e, a
            out.append((ee, aa))
        return out

    # -- combined evidence: a category cell's count and its strongest emerging term --------------
    def _cell_term_evidence(self, texts, gcodes, ccodes, tpos, G, C, T, L, tested, win_n, alpha_by_t, hist):
        """Emerging terms within each group × category cell: the term machinery run with the cell as
        the group (rare before *in that cell*, prior = the term's overall share × the cell's recent
        volume). Returns per (cell code ``g·C + c``, period) the strongest candidate term, its
        p-value and the number of candidate terms."""
        gc = np.asarray(gcodes) * C + np.asarray(ccodes)
        GC = G * C
        gc_g = np.repeat(np.arange(G), C)
        vol = np.zeros((GC, T))
        np.add.at(vol, (gc, tpos), 1)
        cv = np.concatenate([np.zeros((GC, 1)), np.cumsum(vol, axis=1)], axis=1)
        lo = np.clip(np.arange(T) - L, 0, None)
        wn = win_n[gc_g]
        Vgc = np.divide(cv[:, np.arange(T)] - cv[:, lo], wn, out=np.zeros((GC, T)), where=wn > 0)
        keep_occ = getattr(self, "_term_occ", None)
        tc = self._term_cells(texts, gc, tpos, GC, T, L, tested[gc_g], wn, Vgc, alpha_by_t, hist[gc_g])
        if keep_occ is not None:
            self._term_occ = keep_occ
        tc = tc[tc["p_value"] < 1.0]
        if tc.empty:
            return pd.DataFrame(columns=["gc", "t", "term", "p_term", "n_terms"])
        tc = tc.sort_values("p_value", kind="stable")
        grp = tc.groupby(["g", "t"], sort=False)
        best = grp.head(1).set_index(["g", "t"])
        return pd.DataFrame({"gc": best.index.get_level_values(0), "t": best.index.get_level_values(1),
                             "term": best["key"].to_numpy(), "p_term": best["p_value"].to_numpy(float),
                             "n_terms": grp.size().reindex(best.index).to_numpy()})

    def _combine(self, cells: pd.DataFrame, ev: pd.DataFrame, cats: list) -> None:
        """``evidence='combined'``: Fisher's statistic of the category cell's p-value and its
        strongest term's (× the number of candidate terms), calibrated against the same statistic
        of **every earlier** tested category cell (all groups; an empirical null, so the terms'
        own miscalibration on real boards — long messages, repeated postings — is measured, not
        assumed), then Benjamini–Hochberg per period. A cell reaching ``combined_thresholds``
        (预警 q ≤ 0.1, 告警 q ≤ 0.01) with ratio ≥ ``combined_ratio`` and the level's minimum count
        gets that level if it is higher than its own; its p_value and score are then the combined
        ones and ``related`` names the term."""
        cat = np.flatnonzero((cells["kind"] == "category").to_numpy())
        if not len(cat):
            return
        sub = cells.iloc[cat]
        C = len(cats)
        cidx = sub["key"].map({k: i for i, k in enumerate(cats)}).to_numpy(int)
        key = pd.MultiIndex.from_arrays([sub["g"].to_numpy() * C + cidx, sub["t"].to_numpy()])
        e = ev.set_index(["gc", "t"]).reindex(key)
        s_term = np.minimum(1.0, e["p_term"].to_numpy(float) * e["n_terms"].to_numpy(float))
        s_term = np.where(np.isfinite(s_term), s_term, 1.0)
        p_cat = sub["p_value"].to_numpy(float)
        x = -np.log(np.maximum(p_cat, 1e-300)) - np.log(np.maximum(s_term, 1e-300))
        t = sub["t"].to_numpy()
        p_emp = np.ones(len(sub))
        q_emp = np.ones(len(sub))
        order = np.argsort(t, kind="stable")
        past = np.zeros(0)
        bounds = np.flatnonzero(np.diff(t[order])) + 1
        for idx in np.split(order, bounds):
            if len(past):
                ge = len(past) - np.searchsorted(past, x[idx], side="left")
                p_emp[idx] = (1.0 + ge) / (1.0 + len(past))
                q_emp[idx] = bh_qvalues(p_emp[idx])
            past = np.sort(np.concatenate([past, x[idx]]))
        th = {"预警": 0.10, "告警": 0.01, **(self.combined_thresholds or {})}
        base = self._thresholds()
        obs = sub["observed"].to_numpy(float)
        ratio = obs / np.maximum(sub["expected"].to_numpy(float), 1e-9)
        rank = {"": 0, "关注": 1, "预警": 2, "告警": 3}
        # a new category (no baseline yet) stays on the watch list whatever its words say
        est = ~sub["_new"].fillna(False).to_numpy(bool) if "_new" in sub.columns else np.ones(len(sub), bool)
        lv = sub["level"].fillna("").to_numpy(object).copy()
        pv = p_cat.copy()
        sc = sub["score"].to_numpy(float).copy()
        qv = sub["q_value"].to_numpy(float).copy()
        rel = sub["related"].to_numpy(object).copy()
        if self.evidence == "gated":
            # the watch level (raw p ≤ gate_p) of the count plus a surging new term of the same cell
            up = ((p_cat <= self.gate_p) & (ratio >= self.combined_ratio) & (obs >= base["预警"]["min_count"])
                  & (s_term <= self.gate_term_p) & (np.array([rank[v] for v in lv]) < rank["预警"]) & est)
            lv[up] = "预警"
            rel[up] = e["term"].to_numpy(object)[up]
        for name in ("预警", "告警") if self.evidence == "combined" else ():
            up = ((q_emp <= th[name]) & (ratio >= self.combined_ratio) & (obs >= base[name]["min_count"])
                  & (s_term < 1.0) & (np.array([rank[v] for v in lv]) < rank[name]) & est)
            lv[up] = name
            pv[up] = p_emp[up]
            sc[up] = -np.log10(np.maximum(q_emp[up], 1e-300))
            qv[up] = q_emp[up]
            rel[up] = e["term"].to_numpy(object)[up]
        cells.loc[cells.index[cat], "level"] = lv
        cells.loc[cells.index[cat], "p_value"] = pv
        cells.loc[cells.index[cat], "score"] = sc
        cells.loc[cells.index[cat], "q_value"] = qv
        cells.loc[cells.index[cat], "related"] = rel
        cells.loc[cells.index[cat], "p_combined"] = p_emp
        cells.loc[cells.index[cat], "q_combined"] = q_emp
        cells.loc[cells.index[cat], "p_term"] = s_term

    # -- categories ------------------------------------------------------------------------------
    def _alpha_nb2(self, Y, mu, keep, T):
        """α by moments, ``Σ((y−μ)² − y) / Σμ²`` over periods before ``t``, shrunk toward ``alpha_prior``."""
        num = np.where(keep, (Y - mu) ** 2 - Y, 0.0).sum(axis=(0, 1))
        den = np.where(keep, mu ** 2, 0.0).sum(axis=(0, 1))
        cnum, cden = np.cumsum(num), np.cumsum(den)
        pn, pd_ = np.concatenate([[0.0], cnum[:-1]]), np.concatenate([[0.0], cden[:-1]])
        # a prior α0 worth ``alpha_prior_periods`` average past periods: early on, with little
        # history, α is not trusted to be small
        d0 = self.alpha_prior_periods * pd_ / np.maximum(np.arange(T), 1)
        a_t = np.where(pd_ + d0 > 0, (pn + self.alpha_prior * d0) / np.where(pd_ + d0 > 0, pd_ + d0, 1.0),
                       self.alpha_prior)
        return np.clip(np.where(pd_ > 0, a_t, self.alpha_prior), self.alpha_floor, 5.0)

    def _alpha_phi(self, Y, mu, keep, T):
        """Variance ``μ(1 + φ) + α·μ²`` fitted by weighted least squares of the excess
        ``(y − μ)² − y`` on ``μ`` and ``μ²`` over periods before ``t`` (weights ``1/v²``, iterated),
        each coefficient shrunk toward its prior (``phi_prior``, ``alpha_prior``) with the weight of
        ``alpha_prior_periods`` average past periods; ``φ ≥ 0``, ``α ≥ alpha_floor``."""
        r = np.where(keep, (Y - mu) ** 2 - Y, 0.0)
        m = np.where(keep, mu, 0.0)
        a0, f0 = float(self.alpha_prior), float(self.phi_prior)
        a_t, f_t = np.full(T, a0), np.full(T, f0)
        past = np.concatenate([[0], np.arange(T - 1) + 1])               # periods before t
        for _ in range(3):
            v = m * (1 + f_t) + a_t * m ** 2
            w = np.where(keep, 1.0 / np.maximum(v, 1e-3) ** 2, 0.0)

            def cum(x):
                c = np.cumsum(x.sum(axis=(0, 1)))
                return np.concatenate([[0.0], c[:-1]])
            s11, s12, s22 = cum(w * m * m), cum(w * m ** 3), cum(w * m ** 4)
            b1, b2 = cum(w * m * r), cum(w * m * m * r)
            d = self.alpha_prior_periods / np.maximum(past, 1)
            p11, p22 = d * s11, d * s22                                  # prior weights
            A11, A22, A12 = s11 + p11, s22 + p22, s12
            B1, B2 = b1 + p11 * f0, b2 + p22 * a0
            det = A11 * A22 - A12 ** 2
            ok = det > 1e-12 * np.maximum(A11 * A22, 1e-300)
            f_new = np.where(ok, (B1 * A22 - B2 * A12) / np.where(ok, det, 1.0), f0)
            a_new = np.where(ok, (A11 * B2 - A12 * B1) / np.where(ok, det, 1.0), a0)
            # constraints: refit the other coefficient alone when one hits its bound
            lowf = f_new < 0
            a_new = np.where(lowf, np.where(A22 > 0, B2 / np.where(A22 > 0, A22, 1.0), a0), a_new)
            f_new = np.where(lowf, 0.0, f_new)
            lowa = a_new < self.alpha_floor
            f_new = np.where(lowa, np.maximum(np.where(A11 > 0, (B1 - A12 * self.alpha_floor)
                                                       / np.where(A11 > 0, A11, 1.0), f0), 0.0), f_new)
            a_new = np.clip(a_new, self.alpha_floor, 5.0)
            nohist = s22 <= 0
            a_t = np.where(nohist, a0, a_new)
            f_t = np.clip(np.where(nohist, f0, f_new), 0.0, 5.0)
        return a_t, f_t

    def _alpha_by_category(self, Y, mu, keep, a_t, phi_t):
        """``α`` per category and period (``dispersion_by='category'``): each category's weighted
        least-squares ``α̂_c`` of ``(y − μ)² − y − φμ`` on ``μ²`` over earlier periods (the pooled fit's
        weights and outlier exclusion), with a robust (sandwich) variance, shrunk toward the pooled ``α``
        by empirical Bayes: the between-category variance ``τ²`` by DerSimonian–Laird per period, so that
        categories that swing alike (``τ² = 0``) keep the pooled ``α``, and a category whose counts swing
        far more (or less) than the others' gets its own."""
        C, T = Y.shape[1], Y.shape[2]
        v = mu * (1 + phi_t[None, None, :]) + a_t[None, None, :] * mu ** 2
        w = np.where(keep, 1.0 / np.maximum(v, 1e-3) ** 2, 0.0)
        m2 = np.where(keep, mu ** 2, 0.0)
        r = np.where(keep, (Y - mu) ** 2 - Y - phi_t[None, None, :] * mu, 0.0)

        def past(x):                                          # C x T: sums over groups and periods < t
            c = np.cumsum(x.sum(axis=0), axis=1)
            return np.concatenate([np.zeros((C, 1)), c[:, :-1]], axis=1)
        s4, s2r = past(w * m2 * m2), past(w * m2 * r)
        q0, q1, q2 = past((w * m2 * r) ** 2), past(w * w * m2 ** 3 * r), past((w * m2 * m2) ** 2)
        ok = s4 > 0
        ahat = np.where(ok, s2r / np.where(ok, s4, 1.0), 0.0)
        var = np.where(ok, (q0 - 2 * ahat * q1 + ahat ** 2 * q2) / np.where(ok, s4, 1.0) ** 2, np.inf)
        ok &= np.isfinite(var) & (var > 0)
        prec = np.where(ok, 1.0 / np.where(ok, var, 1.0), 0.0)
        out = np.broadcast_to(a_t[None, :], (C, T)).copy()
        for t in range(T):
            k = ok[:, t]
            if k.sum() < 3:
                continue
            pw, ah = prec[k, t], ahat[k, t]
            mean = float((pw * ah).sum() / pw.sum())
            qstat = float((pw * (ah - mean) ** 2).sum())
            denom = float(pw.sum() - (pw ** 2).sum() / pw.sum())
            tau2 = max(0.0, (qstat - (k.sum() - 1)) / denom) if denom > 0 else 0.0
            if tau2 > 0:
                out[k, t] = (ah * pw + a_t[t] / tau2) / (pw + 1.0 / tau2)
        return np.clip(out, self.alpha_floor, 5.0)

    def _alpha_phi_ml(self, Y, mu, keep, T):
        """``φ`` and ``α`` of the variance ``μ(1 + φ) + αμ²`` by maximum likelihood of the negative
        binomial over the one-step-ahead cells of periods before ``t`` (refitted every
        ``dispersion_refit`` periods, warm-started), each shrunk toward its prior with the weight of
        ``alpha_prior_periods`` periods. Least squares on ``(y − μ)² − y`` is ruled by the many thin
        cells, whose squared residuals are far from Gaussian; the likelihood is not (teddycup 附件3,
        whole year: WLS φ 0.08, α 0.19; ML φ 0.18, α 0.15 — busy cells' tails were too heavy)."""
        from scipy import optimize, special

        a0, f0 = float(self.alpha_prior), float(self.phi_prior)
        a_t, f_t = np.full(T, a0), np.full(T, f0)
        gi, ci, ti = np.nonzero(keep)
        order = np.argsort(ti, kind="stable")
        gi, ci, ti = gi[order], ci[order], ti[order]
        y = Y[gi, ci, ti]
        m = np.maximum(mu[gi, ci, ti], 1e-6)
        ends = np.searchsorted(ti, np.arange(T))                      # cells of periods < t
        seen = np.concatenate([[0], np.cumsum(np.bincount(ti, minlength=T) > 0)[:-1]])  # periods < t with cells
        th = np.log([max(f0, 0.01), max(a0, 0.01)])
        fitted, last = None, None
        for t in range(T):
            n = int(ends[t])
            if n == 0:
                continue
            if last is None or t - last >= self.dispersion_refit:
                yy, mm = y[:n], m[:n]
                c0 = special.gammaln(yy + 1)

                def nll(x, yy=yy, mm=mm, c0=c0):
                    phi, a = np.exp(np.clip(x, -12, 3))
                    r = mm / (phi + a * mm)
                    return -float(np.sum(special.gammaln(yy + r) - special.gammaln(r) - c0
                                         + r * np.log(r / (r + mm)) + yy * np.log(mm / (r + mm))))
                res = optimize.minimize(nll, th, method="Nelder-Mead",
                                        options={"xatol": 1e-3, "fatol": 1e-3, "maxiter": 400})
                th = res.x
                fitted = np.exp(np.clip(th, -12, 3))
                last = t
            w = seen[t] / (seen[t] + self.alpha_prior_periods)
            f_t[t] = w * fitted[0] + (1 - w) * f0
            a_t[t] = w * fitted[1] + (1 - w) * a0
        return np.clip(a_t, self.alpha_floor, 5.0), np.clip(f_t, 0.0, 5.0)

    def _tail_scale(self, z, ci, ti, C, T):
        """Per category and period, how much heavier the category's upper tail has been than all
        categories': the ``tail_quantile`` of its one-period z-scores (mid-p) over earlier periods divided
        by the same quantile over every category's, at least 1 (``tail_min_cells`` earlier cells needed)."""
        out = np.ones((C, T))
        q = float(self.tail_quantile)
        order = np.argsort(ti, kind="stable")
        z, ci, ti = z[order], ci[order], ti[order]
        ends = np.searchsorted(ti, np.arange(T))                    # cells of periods < t: [:ends[t]]
        for t in range(T):
            n = int(ends[t])
            if n < self.tail_min_cells:
                continue
            q_all = float(np.quantile(z[:n], q))
            if q_all <= 0:
                continue
            zc, cc = z[:n], ci[:n]
            for c in np.unique(cc):
                sel = zc[cc == c]
                if len(sel) >= self.tail_min_cells:
                    out[c, t] = max(float(self.tail_floor), float(np.quantile(sel, q)) / q_all)
        return out

    def _category_cells(self, gcodes, ccodes, tpos, cats, G, T, L, tested, win_n, V, lo, alpha_by_t, hist):
        C = len(cats)
        Y = np.zeros((G, C, T))
        np.add.at(Y, (gcodes, ccodes, tpos), 1)
        cY = np.concatenate([np.zeros((G, C, 1)), np.cumsum(Y, axis=2)], axis=2)
        S = cY[:, :, np.arange(T)] - cY[:, :, lo]                               # G x C x T, window < t
        # category share among all groups' past messages (all history before t), smoothed
        cat_past = cY[:, :, :T].sum(axis=0)                                       # C x T
        # (smoothing does not depend on how many categories exist: later ones must not leak in)
        all_past = cat_past.sum(axis=0, keepdims=True)                             # 1 x T
        if self.new_categories not in ("watch", "test"):
            raise ConfigError(f"new_categories must be 'watch' or 'test', got {self.new_categories!r}")
        # periods each category has existed (anywhere) before t: its first message's period onwards
        seen = Y.sum(axis=0) > 0                                                   # C x T
        c_first = np.where(seen.any(axis=1), np.argmax(seen, axis=1), T)
        age = np.arange(T)[None, :] - c_first[:, None]                             # C x T (< 0: not yet)
        if self.new_categories == "watch":
            # a category's share among the messages since it first appeared (a service started mid-series
            # is not diluted by the months before it existed); before: since the data's start
            since = all_past - np.take_along_axis(all_past, np.clip(c_first, 0, T - 1)[None, :], axis=1).T
            share = (cat_past + 0.5) / (np.where(age > 0, since, all_past) + 1.0)
        else:
            share = (cat_past + 0.5) / (all_past + 1.0)
        # a category with fewer than min_history periods behind it has no baseline (expected ≈ 0)
        young = age < self.min_history if self.new_categories == "watch" else np.zeros((C, T), bool)
        late = np.flatnonzero((c_first >= self.min_history) & (c_first < T))
        #: categories first seen mid-series (after the first min_history periods), with that period's start
        self.new_categories_ = {str(cats[i]): pd.Timestamp(self.periods_[c_first[i]]) for i in late}
        k = np.full((G, C, T), float(self.prior_strength))
        kk = float(self.prior_strength)
        prior = share[None, :, :] * V[:, None, :]                                 # group volume × category share
        if self.prior not in ("pooled", "level"):
            raise ConfigError(f"prior must be 'pooled' or 'level', got {self.prior!r}")
        n_old = np.zeros((G, T))
        if self.prior == "level":
            # the cell's own rate before the level window, itself shrunk toward the pooled rate
            n_old = np.clip(hist - win_n, 0, None).astype(float)
            prior = (cY[:, :, lo] * (n_old > 0)[:, None, :] + k * prior) / (n_old[:, None, :] + k)
        # periods of data behind λ (its relative variance is ((1 + φ)/λ + α)/nk): the prior counts as
        # k periods, as k²/(n_old + k) once it rests on n_old older periods of the cell
        nk_eff = (win_n + kk) ** 2 / (win_n + kk ** 2 / (n_old + kk))             # G x T
        lam = (S + k * prior) / (win_n[:, None, :] + k)
        # pooled seasonal factor per category; the first year's momentum leaves the cell's own
        # group out (``momentum_loo``): a surge must not raise its own expectation through the pool
        season = np.ones((G, C, T))
        Pn = _SEASON[self.period]
        tot_c = Y.sum(axis=0)                                                     # C x T
        ctc = np.concatenate([np.zeros((C, 1)), np.cumsum(tot_c, axis=1)], axis=1)
        m = self.season_shrink
        for t in range(T):
            b0, b1 = t - Pn - L, t - Pn - 1                                      # level window last season
            if self.seasonal and b0 >= 0:
                a0, a1 = t - Pn - 1, t - Pn + 1
                A = (ctc[:, a1 + 1] - ctc[:, a0]) / 3.0
                B = (ctc[:, b1 + 1] - ctc[:, b0]) / L
                season[:, :, t] = ((A + m) / (B + m))[None, :]
            elif self.momentum and t >= 2:
                # no season of history yet: the pooled momentum of the category (last 2 periods
                # against the level window, all other groups) carries seasonal onsets, past only
                lo_t = max(0, t - L)
                r_all = ctc[:, t] - ctc[:, t - 2]
                b_all = ctc[:, t] - ctc[:, lo_t]
                if self.momentum_loo:
                    r_all = r_all[None, :] - (cY[:, :, t] - cY[:, :, t - 2])
                    b_all = b_all[None, :] - (cY[:, :, t] - cY[:, :, lo_t])
                R = r_all / 2.0
                B = b_all / max(t - lo_t, 1)
                season[:, :, t] = (R + m) / (B + m)
        mu = lam * season
        if getattr(self, "_total_mode", False) and self.total_prior_strength is not None:
            # a total's prior strength: fixed, or chosen per period by the past one-step predictions ('auto')
            k_t = self._total_strength(Y[:, 0, :], S[:, 0, :], prior[:, 0, :], season[:, 0, :], win_n, tested)
            self.total_prior_strength_ = pd.Series(k_t, index=self.periods_, name="k")
            k = np.broadcast_to(k_t[None, None, :], (G, C, T))
            nk_eff = (win_n + k_t[None, :]) ** 2 / (win_n + k_t[None, :] ** 2 / (n_old + k_t[None, :]))
            lam = (S + k * prior) / (win_n[:, None, :] + k)
            mu = lam * season
        # overdispersion from one-step-ahead residuals of earlier periods
        mask = np.broadcast_to(tested[:, None, :], Y.shape)
        # moments only over categories already seen before t (a category that appears later must not
        # change the past), and robust to past surges: cells that were extreme under the previous
        # estimate (NB tail p < alpha_outlier_p) are left out and α re-estimated, twice
        usable = mask & (cat_past > 0)[None, :, :] & ~young[None, :, :]
        keep = usable.copy()
        phi_t = np.zeros(T)
        if self.dispersion == "nb2":
            a_t = self._alpha_nb2(Y, mu, usable, T)
            for _ in range(2):
                tail = _nb_sf(Y, mu, np.broadcast_to(a_t[None, None, :], Y.shape))
                keep = usable & (tail >= self.alpha_outlier_p)
                a_t = self._alpha_nb2(Y, mu, keep, T)
        else:
            fit = self._alpha_phi_ml if self.dispersion_fit == "ml" else self._alpha_phi
            a_t, phi_t = fit(Y, mu, usable, T)
            for _ in range(2):
                tail = _nb_sf(Y, mu, a_t[None, None, :] + phi_t[None, None, :] / np.maximum(mu, 1e-9))
                keep = usable & (tail >= self.alpha_outlier_p)
                a_t, phi_t = fit(Y, mu, keep, T)
        alpha_by_t[:] = a_t
        self.phi_ = pd.Series(phi_t, index=self.periods_, name="phi")
        if self.predictive not in ("mixture", "nb"):
            raise ConfigError(f"predictive must be 'mixture' or 'nb', got {self.predictive!r}")
        if self.dispersion_by not in (None, "category"):
            raise ConfigError(f"dispersion_by must be None or 'category', got {self.dispersion_by!r}")
        a_ct = (self._alpha_by_category(Y, mu, keep, a_t, phi_t) if self.dispersion_by == "category"
                else np.broadcast_to(a_t[None, :], (C, T)))
        self.alpha_by_category_ = pd.DataFrame(np.asarray(a_ct).T, index=self.periods_, columns=list(cats))
        g_idx, c_idx, t_idx = np.nonzero(mask)
        base = mu[g_idx, c_idx, t_idx]
        # windows of w periods ending at t, each against the baseline frozen at the window's start
        best_p = np.full(len(g_idx), np.inf)
        obs = Y[g_idx, c_idx, t_idx].copy()
        exp = base.copy()
        nk0 = nk_eff[g_idx, t_idx]
        ph0 = phi_t[t_idx]
        alpha = (a_ct[c_idx, t_idx] * (1 + 1.0 / nk0) + ph0 / np.maximum(base, 1e-9)
                 + (1.0 + ph0) / np.maximum(lam[g_idx, c_idx, t_idx] * nk0, 1e-9))
        windows = sorted(set(int(w) for w in self.windows)) or [1]
        win = np.ones(len(g_idx), dtype=int)
        pool, ms = None, float(self.season_shrink)
        if self.window_drift:
            # the category's mean level per period over the lookback window before t, all groups but
            # the cell's own (``momentum_loo``) — what the others say about where the level has gone
            n_lo = np.maximum(np.arange(T) - lo, 1)[None, None, :]
            pool = np.broadcast_to(((ctc[:, np.arange(T)] - ctc[:, lo]))[None, :, :], (G, C, T)).astype(float)
            if self.momentum_loo:
                pool = pool - (cY[:, :, np.arange(T)] - cY[:, :, lo])
            pool = pool / n_lo
        self._null = []     # per window: the cells tested, their expectation and dispersion (discrete FDR)
        if self.tail_calibration not in (None, "category"):
            raise ConfigError(f"tail_calibration must be None or 'category', got {self.tail_calibration!r}")
        scale = None
        self.tail_scale_ = None
        from scipy import stats
        for w in windows:
            s0 = t_idx - w + 1
            ok = s0 >= 0
            ok[ok] &= tested[g_idx[ok], s0[ok]]
            # an established category's window starts where the category already had a baseline
            ok[ok] &= ~young[c_idx[ok], s0[ok]] | young[c_idx[ok], t_idx[ok]]
            gi, ci, ti, si = g_idx[ok], c_idx[ok], t_idx[ok], s0[ok]
            o = cY[gi, ci, ti + 1] - cY[gi, ci, si]
            lam_s = lam[gi, ci, si]
            if self.window_drift and w > 1:
                # the level moves on inside the window as the category's pooled level (other groups)
                # moves: λ of the window's start × that drift × each period's seasonal factor
                drift = np.stack([(pool[gi, ci, si + j] + ms) / (pool[gi, ci, si] + ms) for j in range(w)], axis=1)
                factors = np.stack([season[gi, ci, si + j] for j in range(w)], axis=1) * drift
                e = lam_s * factors.sum(axis=1)
                now = lam_s * factors[:, -1]
            else:
                cs = np.concatenate([np.zeros((G, C, 1)), np.cumsum(season, axis=2)], axis=2)
                e = lam_s * (cs[gi, ci, ti + 1] - cs[gi, ci, si])
                now = lam_s * season[gi, ci, ti]
            # overdispersion of a w-period sum, plus the uncertainty of the level itself, estimated
            # from n + k periods of overdispersed counts (relative variance 1/(λ(n+k)) + α/(n+k)):
            # the predictive distribution is wider for thin cells and short histories
            nk = nk_eff[gi, si]
            ph = phi_t[si]
            ac = a_ct[ci, si]
            a = (ac / w + ph / np.maximum(e, 1e-9) + (1.0 + ph) / np.maximum(lam_s * nk, 1e-9)
                 + ac / nk)
            pw = _nb_sf(o, e, a)
            if self.predictive == "mixture":
                # the level's own uncertainty as a second gamma layer under the period's overdispersion
                # (one negative binomial with the summed variance thins the tail: busy cells, long
                # windows and trends gave too many small p-values); where the level is almost unknown
                # (relative variance > 1, a few expected messages in all its history) the one layer stays
                lv = (1.0 + ph) / np.maximum(lam_s * nk, 1e-9) + ac / nk
                small = np.flatnonzero((pw < 0.2) & (lv <= 1.0))
                if len(small):
                    pw[small] = _nb_gamma_sf(o[small], e[small], ac[small] / w, ph[small], lv[small])
            if self.tail_calibration == "category":
                if scale is None:
                    # the first (shortest) window's cells give each category's past tail (mid-p z-scores)
                    p_next = _nb_sf(o + 1, e, a)
                    p_single = _nb_sf(o, e, a)
                    est = ~young[ci, ti]
                    scale = self._tail_scale(stats.norm.isf(np.clip(p_single - 0.5 * (p_single - p_next), 1e-300, 1.0))[est],
                                             ci[est], ti[est], C, T)
                    self.tail_scale_ = pd.DataFrame(scale.T, index=self.periods_, columns=list(cats))
                sc = scale[ci, ti]
                up = (sc != 1.0) & (pw < 0.5)
                pw = np.where(up, stats.norm.sf(stats.norm.isf(np.clip(pw, 1e-300, 1.0)) / sc), pw)
            if w > 1 and self.ongoing:
                # a window alert says "a surge is going on": its last period must itself be above
                # the level the window is judged against, or a one-period spike that is over keeps
                # alerting through every longer window that still contains it
                pw = np.where(Y[gi, ci, ti] > now, pw, 1.0)
            self._null.append((np.flatnonzero(ok), e, a))
            better = pw < best_p[ok]
            idx = np.flatnonzero(ok)[better]
            best_p[idx] = pw[better]
            win[idx] = w
            obs[idx] = o[better]
            exp[idx] = e[better]
            alpha[idx] = a[better]
        if self.window_correction == "bonferroni":
            p = np.minimum(1.0, best_p * len(windows))
        else:   # the smallest of correlated window p-values, corrected for the windows' dependence
            p = window_max_pvalue(best_p, windows)
        self.expected_ = (mu, season)
        new = young[c_idx, t_idx]
        family = (obs >= self._family_min()) if self.fdr == "bh" else np.ones(len(obs), bool)
        return pd.DataFrame({"g": g_idx, "t": t_idx, "kind": "category",
                             "key": np.asarray(cats, dtype=object)[c_idx], "observed": obs.astype(int),
                             "expected": exp, "baseline": base, "alpha": alpha, "p_value": p,
                             "window": win, "family": family & ~new, "_new": new})

    # -- emerging terms --------------------------------------------------------------------------
    def _tokenize(self, texts: pd.Series) -> list[list[str]]:
        values = texts.astype("string").fillna("").tolist()
        tok = self.tokenizer
        if tok is None:
            from govml.text.tokenize import GovTokenizer

            tok = GovTokenizer()
        many = getattr(tok, "tokenize_many", None)
        return list(many(values)) if many else [tok(v) for v in values]

    def _term_cells(self, texts, gcodes, tpos, G, T, L, tested, win_n, V, alpha_by_t, hist):
        if self._tokens is None:
            self._tokens = self._tokenize(texts)
        tokens = self._tokens
        rows_g, rows_t, rows_term, rows_i = [], [], [], []
        for i, (g, t, toks) in enumerate(zip(gcodes, tpos, tokens, strict=True)):
            for term in set(toks):
                if len(term) >= 2 and not term.isdigit():
                    rows_g.append(g)
                    rows_t.append(t)
                    rows_term.append(term)
                    rows_i.append(i)
        self._term_occ = pd.DataFrame({"g": rows_g, "t": rows_t, "term": rows_term, "i": rows_i})
        empty = pd.DataFrame(columns=["g", "t", "kind", "key", "observed", "expected", "baseline", "alpha",
                                      "p_value", "window", "family"])
        if not rows_term:
            return empty
        occ = pd.DataFrame({"g": rows_g, "t": rows_t, "term": rows_term})
        cnt = occ.groupby(["g", "term", "t"], sort=True).size().rename("y")
        cells = cnt.reset_index()
        cells = cells[tested[cells["g"].to_numpy(), cells["t"].to_numpy()]].reset_index(drop=True)
        if cells.empty:
            return empty

        def lagged(lag: int) -> np.ndarray:
            key = pd.MultiIndex.from_arrays([cells["g"], cells["term"], cells["t"] - lag])
            return cnt.reindex(key).fillna(0).to_numpy()

        windows = sorted(set(int(w) for w in self.windows)) or [1]
        lags = {lag: lagged(lag) for lag in range(0, max(windows))}
        # messages with the term in all groups strictly before period s
        term_t = occ.groupby(["term", "t"]).size()
        upto = term_t.groupby(level=0).cumsum().reset_index(name="upto").rename(columns={"t": "tt"})
        upto = upto.sort_values("tt")
        all_t = np.bincount(tpos, minlength=T).astype(float)
        call = np.concatenate([[0.0], np.cumsum(all_t)])

        # messages with the term in the same group strictly before period s (all its history)
        gt_upto = cnt.groupby(level=[0, 1]).cumsum().reset_index(name="upto").rename(columns={"t": "tt"})
        gt_upto = gt_upto.sort_values("tt")

        def group_before(svals: np.ndarray) -> np.ndarray:
            q = pd.DataFrame({"g": cells["g"], "term": cells["term"], "s": svals,
                              "_i": np.arange(len(cells))}).sort_values("s")
            merged = pd.merge_asof(q, gt_upto, left_on="s", right_on="tt", by=["g", "term"],
                                   direction="backward", allow_exact_matches=False)
            out = np.zeros(len(cells))
            out[merged["_i"].to_numpy()] = merged["upto"].fillna(0).to_numpy(float)
            return out

        def before(svals: np.ndarray) -> np.ndarray:
            q = pd.DataFrame({"term": cells["term"], "s": svals, "_i": np.arange(len(cells))}).sort_values("s")
            merged = pd.merge_asof(q, upto, left_on="s", right_on="tt", by="term", direction="backward",
                                   allow_exact_matches=False)
            out = np.zeros(len(cells))
            out[merged["_i"].to_numpy()] = merged["upto"].fillna(0).to_numpy(float)
            return out

        t_arr = cells["t"].to_numpy()
        g_arr = cells["g"].to_numpy()
        k = self.prior_strength
        n = len(cells)
        best_p = np.full(n, np.inf)
        obs = cells["y"].to_numpy(float).copy()
        exp = np.zeros(n)
        base = np.zeros(n)
        alpha = np.zeros(n)
        cand_any = np.zeros(n, dtype=bool)
        win = np.ones(n, dtype=int)
        for w in windows:
            s0 = t_arr - w + 1
            ok = s0 >= 0
            ok[ok] &= tested[g_arr[ok], s0[ok]]
            sc = np.clip(s0, 0, None)
            o = sum(lags[lag] for lag in range(w))
            # the group's whole history before the window: terms are sparse, a short window would
            # make every local name (estates, roads) look new each time it comes back
            S = group_before(sc)
            n_h = np.clip(hist[g_arr, sc], 0, None).astype(float)
            share = (before(sc) + 0.5) / (call[sc] + 1.0)
            lam = (S + k * share * V[g_arr, sc]) / (n_h + k)
            e = w * lam
            a = np.maximum(alpha_by_t[sc], self.term_alpha_floor) / w
            # rare before (in the group and overall: 小区, 物业 are never "new"), frequent now
            rare = ((S / np.maximum(n_h, 1.0) <= self.term_rare_max) & (share <= self.term_max_share)
                    & (n_h >= self.term_min_history))
            cand = ok & rare & (o >= self.term_min_count) & (o >= self._family_min())
            if w == 1:
                exp[:] = e
                base[:] = e
                alpha[:] = a
            if cand.any():
                pw = np.ones(n)
                pw[cand] = _nb_sf(o[cand], e[cand], a[cand])
                better = cand & (pw < best_p)
                best_p[better] = pw[better]
                win[better] = w
                obs[better] = o[better]
                exp[better] = e[better]
                alpha[better] = a[better]
                cand_any |= cand
        if self.window_correction == "bonferroni":
            pc = np.minimum(1.0, best_p * len(windows))
        else:
            pc = window_max_pvalue(np.where(np.isfinite(best_p), best_p, 1.0), windows)
        p = np.where(cand_any, pc, 1.0)
        return pd.DataFrame({"g": g_arr, "t": t_arr, "kind": "term", "key": cells["term"].to_numpy(dtype=object),
                             "observed": obs.astype(int), "expected": exp, "baseline": base, "alpha": alpha,
                             "p_value": p, "window": win, "family": np.ones(n, dtype=bool)})


def detect_alerts(
    df: pd.DataFrame,
    *,
    by: str = "community",
    period: str = "W",
    label_col: str | None = "category",
    time_col: str = "created_at",
    text_col: str | None = "text",
    **params: object,
) -> pd.DataFrame:
    """Alerts of a message table: columns :data:`OUTPUT_COLUMNS` (see the module docstring)."""
    det = SurgeDetector(by=by, period=period, label_col=label_col, time_col=time_col, text_col=text_col,
                        **params).fit(df)
    return det.alerts_


def score_alerts(
    alerts: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    by: str,
    period: str,
    n_group_periods: int,
    known_events: pd.DataFrame | None = None,
    tokenizer: Callable[[str], list[str]] | None = None,
) -> dict[str, float]:
    """Recall of planted surges and false alerts per 100 group-periods (definitions: module docstring).

    ``truth`` has the group column ``by``, ``category`` and/or ``term`` (either may be empty),
    ``start`` and ``end``. ``known_events`` (same columns) are other planted episodes that are
    genuine surges too — e.g. data_samples' hot issues, 8–40 messages on one problem at one place
    within weeks: alerts inside their windows are neither hits nor false alerts. With
    ``tokenizer``, a term alert also hits when its key is one of the tokens the tokenizer makes of
    the planted term (违章停车 → 违停).
    """
    al = alerts[alerts["level"].isin(ALERT_LEVELS)].copy()
    al["period_start"] = pd.to_datetime(al["period_start"])
    al["group"] = al["group"].astype(str)
    step = pd.DateOffset(weeks=1) if period == "W" else pd.DateOffset(months=1)
    wins = al["window"].astype(int) if "window" in al.columns else pd.Series(1, index=al.index)
    # the periods an alert covers: its window of 1..w periods ending at period_start
    al["_cover"] = [[ps - step * j for j in range(int(w))] for ps, w in zip(al["period_start"], wins, strict=True)]
    tr = truth.copy()
    tr["_g"] = tr[by].astype(str)
    periods: list[list[pd.Timestamp]] = []
    for s, e in zip(pd.to_datetime(tr["start"]), pd.to_datetime(tr["end"]), strict=True):
        ps = pd.date_range(period_start(pd.Series([s]), period).iloc[0], e,
                           freq="W-MON" if period == "W" else "MS")
        periods.append(list(ps))
    hits = 0
    for (_, row), ps in zip(tr.iterrows(), periods, strict=True):
        pset = set(ps)
        sel = al[(al["group"] == row["_g"]) & al["_cover"].map(lambda c, p=pset: any(x in p for x in c))]
        cat = row.get("category")
        term = row.get("term")
        ok = False
        if isinstance(cat, str) and cat:
            ok |= bool(((sel["kind"] == "category") & (sel["key"] == cat)).any())
        if isinstance(term, str) and term:
            keys = sel.loc[sel["kind"] == "term", "key"].astype(str)
            forms = set(tokenizer(term)) if tokenizer is not None else set()
            ok |= bool(keys.map(lambda k, t=term, f=forms: k in f or (len(k) >= 2 and (k in t or t in k))).any())
        hits += ok
    planted_gp: dict[tuple[str, pd.Timestamp], set[str]] = {}
    for (_, row), ps in zip(tr.iterrows(), periods, strict=True):
        for p in ps:
            s = planted_gp.setdefault((row["_g"], p), set())
            if isinstance(row.get("category"), str):
                s.add(row["category"])
    if known_events is not None and len(known_events):
        ke = known_events.copy()
        ke["_g"] = ke[by].astype(str)
        for _, row in ke.iterrows():
            s0 = period_start(pd.Series([pd.Timestamp(row["start"])]), period).iloc[0]
            for p in pd.date_range(s0, pd.Timestamp(row["end"]), freq="W-MON" if period == "W" else "MS"):
                s = planted_gp.setdefault((row["_g"], p), set())
                if isinstance(row.get("category"), str):
                    s.add(row["category"])
    false = 0
    for _, a in al.iterrows():
        keys = [(a["group"], p) for p in a["_cover"] if (a["group"], p) in planted_gp]
        if not keys:
            false += 1
        elif a["kind"] == "category" and not any(a["key"] in planted_gp[k] for k in keys):
            false += 1
    n = len(tr)
    return {"n_surges": n, "hits": hits, "recall": hits / n if n else float("nan"), "false_alerts": false,
            "false_per_100": 100.0 * false / max(n_group_periods, 1), "group_periods": n_group_periods}


_CLAUSE = re.compile(r"[^，。！？；,!?;\n]+[，。！？；,!?;\n]*")


def _clauses(text: str) -> list[str]:
    parts = [c for c in _CLAUSE.findall(str(text)) if c.strip(" \t\n，。！？；,!?;")]
    return parts or [str(text)]


def theme_variation(seed_text: str, rng: np.random.Generator, *, keep: float = 0.7, mix: float = 0.5,
                    others: Sequence[str] = ()) -> str:
    """One resident's version of a common problem: the clauses of ``seed_text`` (split at
    ，。！？； and line breaks) each kept with probability ``keep`` (at least one, order kept), and with
    probability ``mix`` one random clause of a random text of ``others`` appended."""
    parts = _clauses(seed_text)
    mask = rng.random(len(parts)) < keep
    if not mask.any():
        mask[int(rng.integers(len(parts)))] = True
    out = [c for c, m in zip(parts, mask, strict=True) if m]
    if others and rng.random() < mix:
        other = _clauses(others[int(rng.integers(len(others)))])
        out.append(other[int(rng.integers(len(other)))])
    return "".join(out)


def plant_surges(
    df: pd.DataFrame,
    *,
    by: str,
    label_col: str,
    time_col: str,
    text_col: str | None = None,
    n_surges: int = 10,
    factor: float = 3.0,
    min_extra: int = 6,
    duration: tuple[int, int] = (1, 1),
    period: str = "W",
    seed: int = 0,
    term: str | None = None,
    skip_first: int = 8,
    min_sd: float | None = None,
    themed: bool = False,
    theme_keep: float = 0.7,
    theme_mix: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copy of ``df`` with surges planted, and the truth table (for benchmarks and tests).

    Each surge picks a random (group, category) cell with at least 3 messages, a start period after
    the first ``skip_first`` and a length of ``duration`` periods (inclusive range), and adds to each
    of those periods ``max(min_extra, (factor − 1) × the cell's mean per period)`` messages cloned
    from that cell with their time moved into the period. With ``term`` the clones' text gets that
    term appended. Surges of one group are at least 3 periods apart.

    ``min_sd``: the extra messages per period are also at least ``min_sd`` × the cell's standard
    deviation of counts per period (over all periods), so that a surge stands out of the cell's own
    week-to-week swing and not only of its mean. The truth table gives each surge's ``cell_mean``,
    ``cell_sd`` and ``size_sd`` (extra per period / cell_sd).

    ``themed``: a real surge is usually many residents writing about **one** problem (a building
    site's night noise, one estate's parking fees), so it shows in the terms as well as in the count.
    Each surge then picks one seed message of the cell, and every extra message is a variation of
    it (:func:`theme_variation`): its clauses (split at ，。！？；, line breaks) each kept with
    probability ``theme_keep`` (at least one), and with probability ``theme_mix`` one clause of
    another message of the cell appended (another resident's wording). Other columns are those of
    random messages of the cell. Needs ``text_col``. The truth's ``term`` is the seed text (a term
    alert hits when its key is a word of it) and ``theme`` its first clause.
    """
    if themed and not (text_col and text_col in df.columns):
        raise ConfigError(f"plant_surges(themed=True) needs a text column (text_col={text_col!r})")
    rng = np.random.default_rng(seed)
    times = pd.to_datetime(df[time_col], format="mixed")
    starts = period_start(times, period)
    tpos, periods = _period_index(starts, period)
    work = df.copy()
    work["_t"] = tpos
    counts = work.groupby([by, label_col]).size()
    counts = counts[counts >= 3]
    cand_cells = list(counts.index)
    span = len(periods)
    added, truth = [], []
    used: list[tuple[object, int, int]] = []
    tries = 0
    while len(truth) < n_surges and tries < 2000 and cand_cells:
        tries += 1
        g, c = cand_cells[int(rng.integers(len(cand_cells)))]
        n_p = int(rng.integers(duration[0], duration[1] + 1))
        if span - n_p <= skip_first:
            break
        t = int(rng.integers(skip_first, span - n_p + 1))
        if any(g == ug and t <= ut1 + 3 and ut0 <= t + n_p - 1 + 3 for ug, ut0, ut1 in used):
            continue
        used.append((g, t, t + n_p - 1))
        src = work[(work[by] == g) & (work[label_col] == c)]
        rate = len(src) / max(span, 1)
        sd = float(np.bincount(src["_t"].to_numpy(), minlength=span).std(ddof=1)) if span > 1 else 0.0
        extra = int(max(min_extra, round((factor - 1.0) * rate),
                        int(np.ceil(min_sd * sd)) if min_sd else 0))
        seed_text = ""
        if themed:
            seed_text = str(src[text_col].iloc[int(rng.integers(len(src)))])
            others = src[text_col].astype(str).tolist()
        for j in range(n_p):
            pick = src.sample(n=extra, replace=True, random_state=int(rng.integers(2**31)))
            ps = periods[t + j]
            length = 7 if period == "W" else ps.days_in_month
            offs = rng.uniform(0, length, size=extra)
            clone = pick.drop(columns="_t").copy()
            new_times = ps + pd.to_timedelta(offs, unit="D")
            clone[time_col] = (new_times if pd.api.types.is_datetime64_any_dtype(df[time_col])
                               else new_times.strftime("%Y-%m-%d %H:%M:%S"))
            if themed:
                clone[text_col] = [theme_variation(seed_text, rng, keep=theme_keep, mix=theme_mix, others=others)
                                   for _ in range(extra)]
            if term and text_col:
                clone[text_col] = clone[text_col].astype(str) + "，" + term
            added.append(clone)
        last = periods[t + n_p - 1]
        end = last + pd.Timedelta(days=7 if period == "W" else last.days_in_month) - pd.Timedelta(seconds=1)
        truth.append({by: g, "category": c, "term": term or seed_text, "start": periods[t], "end": end,
                      **({"theme": _clauses(seed_text)[0] if seed_text else ""} if themed else {}),
                      "periods": n_p, "extra_per_period": extra, "cell_mean": rate, "cell_sd": sd,
                      "size_sd": extra / sd if sd > 0 else float("inf")})
    out = pd.concat([df, *added], ignore_index=True) if added else df.copy()
    return out, pd.DataFrame(truth)


__all__: Sequence[str] = ["SurgeDetector", "detect_alerts", "score_alerts", "plant_surges", "theme_variation",
                          "bh_qvalues",
                          "discrete_bh_qvalues", "window_max_pvalue",
                          "period_start", "OUTPUT_COLUMNS", "LEVELS", "ALERT_LEVELS"]
