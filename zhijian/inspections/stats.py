"""Statistics of random inspections: the chi-square test and the fairness check of draws.

Pure Python with the standard library only (no Django), like draw.py, so that anyone can
rerun the fairness check on published bundles. docs/inspections-dashboard.md explains the
test, its assumptions and how to read it.

- `chi2_sf(x, df)`: the upper tail P(X ≥ x) of the chi-square distribution, computed as
  the regularized upper incomplete gamma function Q(df/2, x/2) by the series and
  continued-fraction method of Numerical Recipes (Press et al., 3rd ed., §6.2, "Incomplete
  Gamma Function"; the series is Abramowitz & Stegun 6.5.29, the continued fraction
  A&S 6.5.31, evaluated with the modified Lentz algorithm, NR §5.2).
- `chi_square(observed, expected)` and `chi_square_test`: Pearson's goodness-of-fit
  statistic and its p-value with cells − 1 degrees of freedom.
- `fairness(...)`: per stratum, over many draws, (1) the ratio rule: each draw drew
  ceil(N × ratio) of its N entities; (2) a chi-square dispersion test that the number of
  times each entity was drawn is what equal-probability sampling gives (Satterthwaite's
  moment-matched chi-square reference, because expected counts per entity are small).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BASIS_POINTS = 10_000
WATCH = 0.05  # below: "keep watching"
ALARM = 0.01  # below: "unlikely under a fair draw"

_EPS = 1e-15  # relative accuracy of the series and the continued fraction
_TINY = 1e-300  # stands in for zero in Lentz's algorithm
_MAX_ITERATIONS = 10_000


# --- the incomplete gamma function and the chi-square distribution ------------------------

def _log_prefactor(a: float, x: float) -> float:
    """log(x^a e^-x / Γ(a)), the factor common to the series and the fraction."""
    return a * math.log(x) - x - math.lgamma(a)


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by the series γ(a, x) = x^a e^-x Σ_{n≥0} x^n / (a (a+1) … (a+n))
    (A&S 6.5.29); converges quickly for x < a + 1."""
    denominator = a
    term = 1.0 / a
    total = term
    for _ in range(_MAX_ITERATIONS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            return total * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"the incomplete gamma series did not converge (a={a}, x={x})")


def _upper_fraction(a: float, x: float) -> float:
    """Q(a, x) by the continued fraction (A&S 6.5.31, in the even form of NR §6.2)

        Γ(a, x) = x^a e^-x · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …)))

    evaluated by the modified Lentz algorithm; converges quickly for x ≥ a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            return math.exp(_log_prefactor(a, x)) * h
    raise ArithmeticError(f"the incomplete gamma fraction did not converge (a={a}, x={x})")


def gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a)."""
    if not a > 0:
        raise ValueError(f"a must be positive, got {a}")
    if not x >= 0:
        raise ValueError(f"x must be zero or positive, got {x}")
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _lower_series(a, x))
    return min(1.0, _upper_fraction(a, x))


def gamma_p(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x) = 1 − Q(a, x)."""
    if not a > 0:
        raise ValueError(f"a must be positive, got {a}")
    if not x >= 0:
        raise ValueError(f"x must be zero or positive, got {x}")
    if x == 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    if x < a + 1.0:
        return min(1.0, _lower_series(a, x))
    return max(0.0, 1.0 - _upper_fraction(a, x))


def chi2_sf(x: float, df: int) -> float:
    """P(X ≥ x) for X chi-square distributed with `df` degrees of freedom: the p-value of
    a chi-square statistic x. Q(df/2, x/2)."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df!r}")
    return gamma_q(df / 2.0, x / 2.0)


def chi_square(observed: Sequence[float], expected: Sequence[float]) -> float:
    """Pearson's statistic Σ (O − E)² / E over cells with expectation E > 0."""
    if len(observed) != len(expected):
        raise ValueError("observed and expected differ in length")
    total = 0.0
    for o, e in zip(observed, expected, strict=True):
        if not e > 0:
            raise ValueError(f"every expected count must be positive, got {e}")
        if o < 0:
            raise ValueError(f"observed counts cannot be negative, got {o}")
        total += (o - e) ** 2 / e
    return total


def chi_square_test(observed: Sequence[float],
                    expected: Sequence[float]) -> tuple[float, int, float]:
    """Pearson's goodness-of-fit test: (statistic, degrees of freedom = cells − 1,
    p-value). The expected counts must add up to the observed total and should each be
    at least 5 for the chi-square approximation to hold (Cochran's rule)."""
    if len(observed) < 2:
        raise ValueError("a goodness-of-fit test needs at least two cells")
    if not math.isclose(math.fsum(observed), math.fsum(expected), rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError("observed and expected counts must have the same total")
    statistic = chi_square(observed, expected)
    df = len(observed) - 1
    return statistic, df, chi2_sf(statistic, df)


def poisson_binomial(probabilities: Sequence[float]) -> list[float]:
    """The distribution of the number of successes of independent trials with the given
    success probabilities: element k is P(k successes)."""
    pmf = [1.0]
    for p in probabilities:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"a probability must lie in [0, 1], got {p}")
        nxt = [0.0] * (len(pmf) + 1)
        for k, mass in enumerate(pmf):
            nxt[k] += mass * (1.0 - p)
            nxt[k + 1] += mass * p
        pmf = nxt
    return pmf


# --- the fairness check ---------------------------------------------------------------------

def sample_size(population: int, ratio_bp: int) -> int:
    """The number a draw must take from a stratum: ceil(population × ratio), as in
    draw.Stratum.sample_size (docs/draw-algorithm.md §5)."""
    return (population * ratio_bp + BASIS_POINTS - 1) // BASIS_POINTS


@dataclass(frozen=True)
class StratumDraw:
    """One draw of one stratum: its population N, the declared ratio, the number drawn."""

    population: int
    ratio_bp: int
    drawn: int

    def __post_init__(self):
        if self.population < 0 or not 0 <= self.drawn <= self.population:
            raise ValueError(f"drawn ({self.drawn}) must lie between 0 and the population "
                             f"({self.population})")
        if not 0 <= self.ratio_bp <= BASIS_POINTS:
            raise ValueError(f"ratio {self.ratio_bp} is outside 0–10000 basis points")

    @property
    def probability(self) -> float:
        """Each entity's chance of being drawn under equal-probability sampling: n / N."""
        return self.drawn / self.population if self.population else 0.0

    @property
    def follows_ratio(self) -> bool:
        return self.drawn == sample_size(self.population, self.ratio_bp)


@dataclass(frozen=True)
class Exposure:
    """One entity of a stratum: the draws whose population held it (indexes into the
    stratum's draws) and how many of them drew it."""

    draws: tuple[int, ...]
    selected: int


CONSISTENT, WATCH_VERDICT, UNLIKELY = "consistent", "watch", "unlikely"
NOT_TESTABLE, RATIO_BROKEN = "not_testable", "ratio_broken"


@dataclass(frozen=True)
class Fairness:
    """The fairness check of one stratum over many draws."""

    stratum: str
    draws: int
    entities: int  # distinct entities ever in the stratum's population
    selections: int  # times an entity was drawn, all draws together
    expected_selections: float  # Σ N × declared ratio (before rounding up)
    ratio_rule_broken: tuple[int, ...]  # draws that did not draw ceil(N × ratio)
    statistic: float | None  # T = Σ (X − E)² / V over the entities
    df: float | None  # ν, the effective degrees of freedom
    scale: float | None  # c: T / c is compared with chi-square(ν)
    p_value: float | None

    @property
    def verdict(self) -> str:
        if self.ratio_rule_broken:
            return RATIO_BROKEN
        if self.p_value is None:
            return NOT_TESTABLE
        if self.p_value < ALARM:
            return UNLIKELY
        if self.p_value < WATCH:
            return WATCH_VERDICT
        return CONSISTENT


def _moments(signature: tuple[tuple[int, int], ...]) -> tuple[float, float, float, float]:
    """For an entity in draws drawing n of N (the signature): E and V of its count X,
    and the mean and variance of Z = (X − E)² / V under equal-probability sampling."""
    probabilities = [n / population for n, population in signature]
    mean = math.fsum(probabilities)
    variance = math.fsum(p * (1.0 - p) for p in probabilities)
    if variance == 0:
        return mean, 0.0, 0.0, 0.0
    pmf = poisson_binomial(probabilities)
    z = [(k - mean) ** 2 / variance for k in range(len(pmf))]
    z_mean = math.fsum(m * v for m, v in zip(pmf, z, strict=True))
    z_square = math.fsum(m * v * v for m, v in zip(pmf, z, strict=True))
    return mean, variance, z_mean, max(z_square - z_mean * z_mean, 0.0)


def fairness(stratum: str, draws: Sequence[StratumDraw],
             exposures: Iterable[Exposure]) -> Fairness:
    """Test that the draws of a stratum picked its entities with equal probability.

    Under a fair draw an entity of a population of N from which n are drawn is drawn with
    probability p = n / N, independently from one draw to the next (each draw has its own
    seed). Its count X over the draws that held it is then a sum of independent Bernoulli
    trials: mean E = Σ p, variance V = Σ p (1 − p), distribution Poisson-binomial.

    The statistic is the chi-square dispersion statistic T = Σ (X − E)² / V over the
    entities (those with V = 0, only ever in draws taking nobody or everybody, carry no
    information and are left out). Expected counts per entity are far below 5, so T is
    not referred to chi-square(entities) but to the scaled chi-square c · chi-square(ν)
    with the same mean and variance as T (Satterthwaite's approximation): E[T] and Var[T]
    are summed from the exact Poisson-binomial distribution of each X. Entities of one
    draw are negatively dependent (the draw takes exactly n), which makes Var[T] smaller
    than that sum, so the p-value is conservative. docs/inspections-dashboard.md.
    """
    draws = list(draws)
    members = [0] * len(draws)
    groups: dict[tuple, Counter] = defaultdict(Counter)  # signature -> {times drawn: entities}
    entities = selections = 0
    for x in exposures:
        entities += 1
        if len(set(x.draws)) != len(x.draws):
            raise ValueError("an entity lists the same draw twice")
        if not 0 <= x.selected <= len(x.draws):
            raise ValueError(f"an entity in {len(x.draws)} draws cannot have been drawn "
                             f"{x.selected} times")
        for i in x.draws:
            if not 0 <= i < len(draws):
                raise ValueError(f"draw index {i} is out of range")
            members[i] += 1
        signature = tuple(sorted((draws[i].drawn, draws[i].population) for i in x.draws))
        groups[signature][x.selected] += 1
        selections += x.selected
    for i, d in enumerate(draws):
        if members[i] != d.population:
            raise ValueError(f"draw {i} has a population of {d.population} but "
                             f"{members[i]} entities list it")
    if selections != sum(d.drawn for d in draws):
        raise ValueError(f"the entities were drawn {selections} times in all, the draws "
                         f"drew {sum(d.drawn for d in draws)}")

    statistic = t_mean = t_variance = 0.0
    for signature, counts in groups.items():
        mean, variance, z_mean, z_variance = _moments(signature)
        if variance == 0:
            continue
        for k, n in counts.items():
            statistic += n * (k - mean) ** 2 / variance
            t_mean += n * z_mean
            t_variance += n * z_variance
    df = scale = p_value = None
    if t_mean > 0 and t_variance > 0:
        df = 2.0 * t_mean * t_mean / t_variance
        scale = t_variance / (2.0 * t_mean)
        p_value = gamma_q(df / 2.0, statistic / scale / 2.0)
    return Fairness(
        stratum=stratum, draws=len(draws), entities=entities, selections=selections,
        expected_selections=math.fsum(d.population * d.ratio_bp / BASIS_POINTS
                                      for d in draws),
        ratio_rule_broken=tuple(i for i, d in enumerate(draws) if not d.follows_ratio),
        statistic=statistic if df is not None else None, df=df, scale=scale,
        p_value=p_value)


def fairness_of_draws(draws: Iterable[tuple[dict, dict | None]]) -> list[Fairness]:
    """The fairness check of every stratum over the given draws, each a (frame, result)
    pair as in a published bundle (docs/draw-algorithm.md): the frame's strata and
    entities, the result's counts and selection; draws without a result are skipped.
    Strata are matched by key across draws (class "A", or "610100-A" when stratified by
    city); the result lists them in key order.

    A stratum of one draw whose entities carry unequal weights is left out of that
    stratum's test: its firms are meant to have unequal chances (§5.3 of the draw
    specification), which the equal-probability test would wrongly call unfair."""
    per_stratum: dict[str, list[StratumDraw]] = defaultdict(list)
    membership: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    chosen: dict[str, Counter] = defaultdict(Counter)
    for frame, result in draws:
        if not result:
            continue
        ratios = {s["key"]: s["ratio_bp"] for s in frame["strata"]}
        weights: dict[str, set[int]] = defaultdict(set)
        for e in frame["entities"]:
            weights[e["stratum"]].add(e.get("weight", 1))
        index: dict[str, int] = {}
        for c in result["counts"]:
            key = c["stratum"]
            if len(weights[key]) > 1:
                continue
            index[key] = len(per_stratum[key])
            per_stratum[key].append(StratumDraw(c["population"], ratios.get(key, c["ratio_bp"]),
                                                c["drawn"]))
        for e in frame["entities"]:
            if e["stratum"] in index:
                membership[e["stratum"]][e["uscc"]].append(index[e["stratum"]])
        for s in result["selected"]:
            if s["stratum"] in index:
                chosen[s["stratum"]][s["uscc"]] += 1
    return [
        fairness(key, per_stratum[key],
                 (Exposure(tuple(idx), chosen[key][uscc])
                  for uscc, idx in membership[key].items()))
        for key in sorted(per_stratum)
    ]
