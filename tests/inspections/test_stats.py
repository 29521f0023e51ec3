"""zhijian.inspections.stats: the chi-square distribution (incomplete gamma function),
Pearson's test, and the fairness check of draws. Exact values from tables and closed
forms, properties with hypothesis, and the check run on real draws."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijian.inspections import draw, stats
from zhijian.inspections.stats import Exposure, StratumDraw

# --- the chi-square distribution ------------------------------------------------------------

@pytest.mark.parametrize(("x", "df", "p"), [
    # Critical values of the chi-square table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
    (3.841, 1, 0.05), (6.635, 1, 0.01), (5.991, 2, 0.05), (7.815, 3, 0.05),
    (11.070, 5, 0.05), (15.086, 5, 0.01), (18.307, 10, 0.05), (23.209, 10, 0.01),
    (43.773, 30, 0.05), (124.342, 100, 0.05), (2.706, 1, 0.10), (0.00393, 1, 0.95),
])
def test_table_values(x, df, p):
    assert stats.chi2_sf(x, df) == pytest.approx(p, abs=1e-4)


def test_exact_values():
    # The 5 % point of chi-square(1) is 1.959963984540054², erfc(1.959963984540054/√2) = 0.05.
    assert stats.chi2_sf(1.959963984540054 ** 2, 1) == pytest.approx(0.05, rel=1e-12)
    assert stats.chi2_sf(10.0, 2) == pytest.approx(math.exp(-5.0), rel=1e-12)
    assert stats.chi2_sf(8.0, 8) == pytest.approx(math.exp(-4) * (1 + 4 + 8 + 64 / 6), rel=1e-12)
    assert stats.chi2_sf(0.0, 7) == 1.0
    assert stats.chi2_sf(math.inf, 7) == 0.0
    assert stats.chi2_sf(1000.0, 2) == pytest.approx(math.exp(-500.0), rel=1e-10)
    assert stats.gamma_q(1.0, 2.5) == pytest.approx(math.exp(-2.5), rel=1e-12)
    assert stats.gamma_p(0.5, 2.0) == pytest.approx(math.erf(math.sqrt(2.0)), rel=1e-12)


@given(x=st.floats(min_value=0, max_value=400, allow_nan=False))
def test_closed_forms_for_one_two_and_three_degrees(x):
    assert stats.chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9, abs=1e-300)
    assert stats.chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-9, abs=1e-300)
    three = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    assert stats.chi2_sf(x, 3) == pytest.approx(three, rel=1e-9, abs=1e-300)


@given(x=st.floats(min_value=0, max_value=300, allow_nan=False),
       k=st.integers(min_value=1, max_value=40))
def test_even_degrees_match_the_poisson_sum(x, k):
    # chi-square(2k) upper tail = P(Poisson(x/2) < k) = e^(-x/2) Σ_{j<k} (x/2)^j / j!
    lam = x / 2
    poisson = math.fsum(math.exp(-lam + j * math.log(lam) - math.lgamma(j + 1)) if lam else
                        (1.0 if j == 0 else 0.0) for j in range(k))
    assert stats.chi2_sf(x, 2 * k) == pytest.approx(poisson, rel=1e-9, abs=1e-300)


@given(a=st.floats(min_value=0.05, max_value=500), x=st.floats(min_value=0, max_value=2000))
def test_p_and_q_are_probabilities_adding_to_one(a, x):
    p, q = stats.gamma_p(a, x), stats.gamma_q(a, x)
    assert 0.0 <= p <= 1.0 and 0.0 <= q <= 1.0
    assert p + q == pytest.approx(1.0, abs=1e-12)


@given(x=st.floats(min_value=0, max_value=200), dx=st.floats(min_value=0.01, max_value=50),
       df=st.integers(min_value=1, max_value=200))
def test_the_tail_falls_with_x_and_rises_with_df(x, dx, df):
    assert stats.chi2_sf(x + dx, df) <= stats.chi2_sf(x, df)
    assert stats.chi2_sf(x, df + 1) >= stats.chi2_sf(x, df)


@pytest.mark.parametrize(("x", "df"), [(-1.0, 3), (1.0, 0), (1.0, 2.5), (1.0, True),
                                       (math.nan, 2)])
def test_bad_arguments_are_refused(x, df):
    with pytest.raises(ValueError):
        stats.chi2_sf(x, df)


# --- Pearson's test -------------------------------------------------------------------------

def test_pearson_statistic_and_p_value():
    assert stats.chi_square([10, 20, 30], [20, 20, 20]) == 10.0
    statistic, df, p = stats.chi_square_test([10, 20, 30], [20, 20, 20])
    assert (statistic, df) == (10.0, 2)
    assert p == pytest.approx(math.exp(-5.0), rel=1e-12)
    # A fair die thrown 60 times: 5, 8, 9, 8, 10, 20 against 10 each.
    statistic, df, p = stats.chi_square_test([5, 8, 9, 8, 10, 20], [10] * 6)
    assert (statistic, df) == (13.4, 5)
    assert p == pytest.approx(0.019905220334774376, rel=1e-9)


def test_pearson_refuses_bad_tables():
    with pytest.raises(ValueError):
        stats.chi_square([1, 2], [1])
    with pytest.raises(ValueError):
        stats.chi_square([1, 2], [0, 3])
    with pytest.raises(ValueError):
        stats.chi_square_test([5], [5])
    with pytest.raises(ValueError):
        stats.chi_square_test([5, 6], [5, 5])


# --- the Poisson-binomial distribution ---------------------------------------------------------

@given(st.lists(st.floats(min_value=0, max_value=1), max_size=30))
def test_poisson_binomial_is_a_distribution_with_the_right_mean(ps):
    pmf = stats.poisson_binomial(ps)
    assert len(pmf) == len(ps) + 1
    assert math.fsum(pmf) == pytest.approx(1.0, abs=1e-9)
    assert math.fsum(k * m for k, m in enumerate(pmf)) == pytest.approx(math.fsum(ps), abs=1e-9)


@given(n=st.integers(min_value=0, max_value=40), p=st.floats(min_value=0, max_value=1))
def test_equal_probabilities_give_the_binomial(n, p):
    pmf = stats.poisson_binomial([p] * n)
    for k, mass in enumerate(pmf):
        assert mass == pytest.approx(math.comb(n, k) * p**k * (1 - p) ** (n - k), abs=1e-12)


# --- the fairness check -------------------------------------------------------------------------

def test_fairness_by_hand():
    """Four firms, two draws of two (ratio 50 %). Each firm: E = 1, V = 0.5; its count is
    Binomial(2, ½), so Z = (X − 1)² / 0.5 is 2, 0, 2 with probabilities ¼, ½, ¼: E[Z] = 1,
    Var[Z] = 1. E[T] = 4, Var[T] = 4: ν = 2·4²/4 = 8, c = 4/8 = ½."""
    draws = [StratumDraw(4, 5000, 2), StratumDraw(4, 5000, 2)]
    both = (0, 1)
    same_pair = stats.fairness("A", draws, [Exposure(both, 2)] * 2 + [Exposure(both, 0)] * 2)
    assert (same_pair.statistic, same_pair.df, same_pair.scale) == (8.0, 8.0, 0.5)
    # p = Q(ν/2, T/(2c)) = Q(4, 8) = e^-8 (1 + 8 + 8²/2 + 8³/6)
    assert same_pair.p_value == pytest.approx(math.exp(-8) * (1 + 8 + 32 + 512 / 6), rel=1e-12)
    assert same_pair.p_value == pytest.approx(0.0423801, abs=1e-7)
    assert same_pair.verdict == "watch"
    assert (same_pair.draws, same_pair.entities, same_pair.selections,
            same_pair.expected_selections, same_pair.ratio_rule_broken) == (2, 4, 4, 4.0, ())

    spread = stats.fairness("A", draws, [Exposure(both, 1)] * 4)
    assert (spread.statistic, spread.p_value, spread.verdict) == (0.0, 1.0, "consistent")


def test_a_firm_drawn_every_time_is_unlikely():
    draws = [StratumDraw(20, 1000, 2)] * 10
    every = tuple(range(10))
    favoured = [Exposure(every, 10)] + [Exposure(every, 10 // 19 + (i < 10 % 19))
                                        for i in range(19)]
    result = stats.fairness("B", draws, favoured)
    assert result.selections == 20
    assert result.verdict == "unlikely"
    assert result.p_value < 1e-6


def test_ratio_rule():
    assert StratumDraw(101, 300, 4).follows_ratio  # ceil(3.03) = 4
    assert not StratumDraw(101, 300, 3).follows_ratio
    assert StratumDraw(7, 0, 0).follows_ratio
    broken = stats.fairness("C", [StratumDraw(4, 5000, 2), StratumDraw(4, 5000, 1)],
                            [Exposure((0, 1), 1)] * 3 + [Exposure((0, 1), 0)])
    assert (broken.ratio_rule_broken, broken.verdict) == ((1,), "ratio_broken")
    assert broken.expected_selections == 4.0


def test_draws_taking_all_or_none_cannot_be_tested():
    everyone = stats.fairness("D", [StratumDraw(3, 10000, 3)] * 2, [Exposure((0, 1), 2)] * 3)
    assert (everyone.statistic, everyone.df, everyone.p_value, everyone.verdict) == (
        None, None, None, "not_testable")
    nobody = stats.fairness("A", [StratumDraw(3, 0, 0)], [Exposure((0,), 0)] * 3)
    assert nobody.verdict == "not_testable"
    empty = stats.fairness("A", [], [])
    assert (empty.entities, empty.verdict) == (0, "not_testable")


def test_inconsistent_input_is_refused():
    draws = [StratumDraw(2, 5000, 1)]
    with pytest.raises(ValueError, match="population of 2 but 1 entities"):
        stats.fairness("A", draws, [Exposure((0,), 1)])
    with pytest.raises(ValueError, match="drawn 2 times in all, the draws drew 1"):
        stats.fairness("A", draws, [Exposure((0,), 1), Exposure((0,), 1)])
    with pytest.raises(ValueError, match="cannot have been drawn 2 times"):
        stats.fairness("A", draws, [Exposure((0,), 2), Exposure((0,), 0)])
    with pytest.raises(ValueError, match="out of range"):
        stats.fairness("A", draws, [Exposure((0,), 1), Exposure((1,), 0)])
    with pytest.raises(ValueError):
        StratumDraw(2, 5000, 3)
    with pytest.raises(ValueError):
        StratumDraw(2, 10001, 1)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fairness_ignores_the_order_of_entities_and_draws(data):
    n_draws = data.draw(st.integers(min_value=1, max_value=5))
    n_entities = data.draw(st.integers(min_value=2, max_value=12))
    rng = random.Random(data.draw(st.integers(min_value=0, max_value=10**6)))
    draws, members, chosen = [], [[] for _ in range(n_entities)], [0] * n_entities
    for i in range(n_draws):
        population = [e for e in range(n_entities) if rng.random() < 0.8] or [0]
        ratio = data.draw(st.integers(min_value=0, max_value=10000))
        n = stats.sample_size(len(population), ratio)
        draws.append(StratumDraw(len(population), ratio, n))
        for e in population:
            members[e].append(i)
        for e in sorted(population, key=lambda _e: rng.random())[:n]:
            chosen[e] += 1
    exposures = [Exposure(tuple(members[e]), chosen[e]) for e in range(n_entities)]
    result = stats.fairness("A", draws, exposures)
    assert result.selections == sum(d.drawn for d in draws)
    assert result.ratio_rule_broken == ()
    order = list(range(n_draws))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    shuffled = stats.fairness("A", [draws[i] for i in order],
                              [Exposure(tuple(where[i] for i in x.draws), x.selected)
                               for x in reversed(exposures)])
    if result.statistic is None:
        assert (shuffled.statistic, shuffled.p_value) == (None, None)
    else:
        assert shuffled.statistic == pytest.approx(result.statistic)
        assert shuffled.df == pytest.approx(result.df)
        assert shuffled.p_value == pytest.approx(result.p_value)
        assert 0.0 <= result.p_value <= 1.0
        assert result.statistic >= 0


def _simulate(rng, favour: float, draws=10, firms=300, ratio=500) -> stats.Fairness:
    """Fair draws (favour 1) or draws in which the first 30 firms weigh `favour` times as
    much (Efraimidis–Spirakis weighted sampling), each draw over 80 % of the firms."""
    records, members, chosen = [], [[] for _ in range(firms)], [0] * firms
    for i in range(draws):
        population = [e for e in range(firms) if rng.random() < 0.8]
        n = stats.sample_size(len(population), ratio)
        records.append(StratumDraw(len(population), ratio, n))
        keys = sorted(population, reverse=True,
                      key=lambda e: rng.random() ** (1 / (favour if e < 30 else 1.0)))
        for e in population:
            members[e].append(i)
        for e in keys[:n]:
            chosen[e] += 1
    return stats.fairness("B", records, [Exposure(tuple(members[e]), chosen[e])
                                         for e in range(firms) if members[e]])


def test_the_test_is_conservative_on_fair_draws_and_sees_favouritism():
    rng = random.Random(2026)
    fair = [_simulate(rng, 1.0).p_value for _ in range(200)]
    assert sum(p < 0.05 for p in fair) / len(fair) <= 0.05
    assert sum(p < 0.01 for p in fair) / len(fair) <= 0.01
    favoured = [_simulate(rng, 4.0, draws=20).p_value for _ in range(50)]
    assert sum(p < 0.05 for p in favoured) / len(favoured) >= 0.5


def test_fairness_of_real_draws():
    """40 draws over one frame of 60 firms in classes A (20 %) and B (50 %), each with its
    own seed, through the draw module itself."""
    frame = {"strata": [{"key": "A", "ratio_bp": 2000}, {"key": "B", "ratio_bp": 5000}],
             "entities": [{"uscc": f"E{i:04d}", "stratum": "AB"[i % 2], "weight": 1}
                          for i in range(60)],
             "excluded": []}
    pairs = []
    for k in range(40):
        selected, counts = draw.select(draw.seed_digest("c" * 64, f"{k:010d}", ""), frame)
        pairs.append((frame, {"counts": counts, "selected": [s.as_json() for s in selected]}))
    pairs.append((frame, None))  # a draw still waiting for its seed is skipped
    a, b = stats.fairness_of_draws(pairs)
    assert (a.stratum, a.draws, a.entities, a.selections, a.expected_selections) == (
        "A", 40, 30, 240, 240.0)
    assert (b.stratum, b.draws, b.entities, b.selections, b.expected_selections) == (
        "B", 40, 30, 600, 600.0)
    assert a.statistic == pytest.approx(30.9375)
    assert a.df == pytest.approx(29.906542056, abs=1e-8)
    assert a.p_value == pytest.approx(0.418504783, abs=1e-8)
    assert b.statistic == pytest.approx(39.6)
    assert b.p_value == pytest.approx(0.110320159, abs=1e-8)
    assert (a.verdict, b.verdict) == ("consistent", "consistent")


def test_weighted_strata_are_left_out():
    """Unequal weights mean unequal chances by design: such a stratum of a draw is not
    tested, the same stratum of equal-weight draws still is."""
    equal = {"strata": [{"key": "A", "ratio_bp": 5000}],
             "entities": [{"uscc": f"E{i}", "stratum": "A", "weight": 1} for i in range(4)],
             "excluded": []}
    weighted = {**equal, "entities": [{**e, "weight": 1 + (i == 0)}
                                      for i, e in enumerate(equal["entities"])]}
    pairs = []
    for frame, dice in ((equal, "1111111111"), (weighted, "2222222222"), (equal, "3333333333")):
        selected, counts = draw.select(draw.seed_digest("d" * 64, dice, ""), frame)
        pairs.append((frame, {"counts": counts, "selected": [s.as_json() for s in selected]}))
    (a,) = stats.fairness_of_draws(pairs)
    assert (a.stratum, a.draws, a.entities, a.selections) == ("A", 2, 4, 4)
    assert stats.fairness_of_draws(pairs[1:2]) == []
