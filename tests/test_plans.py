"""The plan calculator: exact to the minor unit, dates that clamp and return to the anchor
day, amortised schedules that follow the annuity formula, the policy check and the
affordability maths. Pure functions: no database."""

import datetime as dt
from fractions import Fraction
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from db.plans import (
    FREQUENCIES, PERIODS_PER_YEAR, GuidelineFigure, PlanError, PlanRequest, Policy, Statement, affordability, annuity_payment,
    due_date, monthly_equivalent, periodic_rate, plan, policy_breaches,
)

amounts = st.integers(min_value=1, max_value=10_000_000_00)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31))
frequencies = st.sampled_from(FREQUENCIES)


@given(amounts, st.integers(1, 120), dates, frequencies)
def test_split_by_count_sums_exactly_with_equal_installments_but_the_last(amount, count, first, frequency):
    if amount < count:
        with pytest.raises(PlanError):
            plan(PlanRequest(amount, first, frequency, count=count))
        return
    s = plan(PlanRequest(amount, first, frequency, count=count))
    amounts_ = [i.amount_minor for i in s.installments]
    assert len(amounts_) == count
    assert sum(amounts_) == amount == s.total_minor
    assert set(amounts_[:-1]) <= {amount // count}
    assert amount // count <= amounts_[-1] < amount // count + count
    assert [i.number for i in s.installments] == list(range(1, count + 1))


@given(amounts, st.integers(1, 5_000_00), dates, frequencies)
def test_split_by_installment_takes_the_fewest_that_cover(amount, each, first, frequency):
    count = -(-amount // each)
    if count > 600:
        with pytest.raises(PlanError):
            plan(PlanRequest(amount, first, frequency, installment_minor=each))
        return
    s = plan(PlanRequest(amount, first, frequency, installment_minor=each))
    amounts_ = [i.amount_minor for i in s.installments]
    assert sum(amounts_) == amount
    assert len(amounts_) == count
    assert all(a == min(each, amount) for a in amounts_[:-1])
    assert 0 < amounts_[-1] <= each


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)), st.integers(0, 240))
def test_monthly_dates_keep_the_anchor_day_clamped_to_month_end(first, index):
    due = due_date(first, "monthly", index)
    months = (due.year - first.year) * 12 + due.month - first.month
    assert months == index
    last_day = (dt.date(due.year + (due.month == 12), due.month % 12 + 1, 1) - dt.timedelta(days=1)).day
    assert due.day == min(first.day, last_day)


def test_monthly_dates_clamp_and_return():
    s = plan(PlanRequest(4_000_00, dt.date(2024, 1, 31), "monthly", count=4))
    assert [i.due for i in s.installments] == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31),
                                               dt.date(2024, 4, 30)]
    assert due_date(dt.date(2026, 1, 31), "monthly", 1) == dt.date(2026, 2, 28)


@pytest.mark.parametrize("frequency,days", [("weekly", 7), ("fortnightly", 14), ("four-weekly", 28)])
def test_fixed_step_dates(frequency, days):
    s = plan(PlanRequest(300_00, dt.date(2026, 3, 27), frequency, count=3))
    assert [i.due for i in s.installments] == [dt.date(2026, 3, 27) + dt.timedelta(days=days * n) for n in range(3)]


@settings(max_examples=200)
@given(st.integers(100_00, 1_000_000_00), st.integers(2, 120), dates, frequencies,
       st.decimals(min_value=Decimal("0.1"), max_value=Decimal("60"), places=1))
def test_amortised_follows_the_annuity_formula_and_repays_the_principal(amount, count, first, frequency, apr):
    s = plan(PlanRequest(amount, first, frequency, count=count, apr_percent=apr))
    rate = periodic_rate(apr, frequency)
    payment = s.installments[0].amount_minor
    # The formula's payment to the cent (rounded half-up; rounded down only where half-up
    # would repay the debt before the last period).
    assert payment in (annuity_payment(amount, rate, count), annuity_payment(amount, rate, count, down=True))
    rows = s.installments
    assert len(rows) == count
    assert all(r.amount_minor == payment for r in rows[:-1])
    assert sum(r.principal_minor for r in rows) == amount
    assert s.total_minor == amount + s.total_interest_minor
    assert rows[-1].amount_minor > 0
    balance = amount
    for r in rows:
        exact = Fraction(balance) * Fraction(apr) / (100 * PERIODS_PER_YEAR[frequency])
        assert r.interest_minor == int(exact + Fraction(1, 2))  # half-up, computed exactly
        assert r.amount_minor == r.interest_minor + r.principal_minor
        balance -= r.principal_minor
    assert balance == 0


def test_annuity_example_to_the_cent():
    # 1,000.00 over 12 months at 9.9% APR (nominal, monthly): P = A·r/(1-(1+r)^-12) = 87.87
    s = plan(PlanRequest(1_000_00, dt.date(2026, 1, 31), "monthly", count=12, apr_percent=Decimal("9.9")))
    assert s.installments[0].amount_minor == 87_87
    assert s.installments[0].interest_minor == 8_25  # 1000 x 0.099/12
    assert sum(i.principal_minor for i in s.installments) == 1_000_00


def test_discount_deposit_and_settled_amount():
    s = plan(PlanRequest(1_000_00, dt.date(2026, 1, 31), "monthly", count=4, deposit_minor=100_00,
                         discount_percent=Decimal("20")))
    assert s.settled_minor == 800_00
    assert s.financed_minor == 700_00
    assert sum(i.amount_minor for i in s.installments) == 700_00
    assert s.total_minor == 800_00
    # half-up on the discount: 12.5% of 0.99 = 0.12375 → 0.12
    assert plan(PlanRequest(99, dt.date(2026, 1, 1), "weekly", count=1, discount_percent=Decimal("12.5"))).settled_minor == 87
    # 50% of 0.01 = 0.005 → 0.01 off, half away from zero
    with pytest.raises(PlanError, match="deposit covers|more than zero"):
        plan(PlanRequest(1, dt.date(2026, 1, 1), "weekly", count=1, discount_percent=Decimal("50")))


def test_settle_for_an_amount():
    s = plan(PlanRequest(1_000_00, dt.date(2026, 1, 31), "monthly", count=1, settle_for_minor=650_00))
    assert s.discount_minor == 350_00 and s.installments[0].amount_minor == 650_00


@pytest.mark.parametrize("request_,message", [
    (PlanRequest(0, dt.date(2026, 1, 1), "monthly", count=1), "more than zero"),
    (PlanRequest(100, dt.date(2026, 1, 1), "monthly", count=0), "at least 1"),
    (PlanRequest(100, dt.date(2026, 1, 1), "yearly", count=1), "unknown frequency"),
    (PlanRequest(100, dt.date(2026, 1, 1), "monthly", count=1, installment_minor=5), "not both"),
    (PlanRequest(100, dt.date(2026, 1, 1), "monthly"), "either"),
    (PlanRequest(100_00, dt.date(2026, 1, 1), "monthly", count=2, deposit_minor=100_00), "deposit covers"),
    (PlanRequest(100_00, dt.date(2026, 1, 1), "monthly", installment_minor=50, apr_percent=Decimal(30)), "interest"),
    (PlanRequest(100_00, dt.date(2026, 1, 1), "monthly", count=1, discount_percent=Decimal(100)), "under 100%"),
])
def test_bad_inputs_say_what_to_change(request_, message):
    with pytest.raises(PlanError, match=message):
        plan(request_)


def test_policy_breaches_in_words():
    policy = Policy(min_installment_minor=25_00, max_installments=12, max_days_to_first_payment=30,
                    settlement_floor_percent=60)
    today = dt.date(2026, 1, 1)
    inside = plan(PlanRequest(1_200_00, dt.date(2026, 1, 15), "monthly", count=12))
    assert policy_breaches(inside, policy, today) == []
    outside = plan(PlanRequest(1_200_00, dt.date(2026, 3, 1), "weekly", count=60, discount_percent=Decimal(50)))
    breaches = policy_breaches(outside, policy, today)
    assert len(breaches) == 4
    assert any("below the client's minimum" in b for b in breaches)
    assert any("60 installments" in b for b in breaches)
    assert any("59 days away" in b for b in breaches)
    assert any("50.0% of the balance" in b for b in breaches)
    # A single small payment that clears a small balance is not "below the minimum".
    assert policy_breaches(plan(PlanRequest(10_00, today, "monthly", count=1)), policy, today) == []


def test_monthly_equivalents_use_the_trade_factors():
    assert monthly_equivalent(50_00, "four-weekly") == 54_17
    assert monthly_equivalent(10_00, "weekly") == 43_33
    assert monthly_equivalent(10_00, "fortnightly") == 21_67
    assert monthly_equivalent(10_00, "monthly") == 10_00


def test_affordability_fits_and_flags():
    guidelines = {"food_and_housekeeping": GuidelineFigure(300_00, 200_00, 100_00)}
    st_ = Statement(adults=2, children=1, income={"earnings": 2_000_00},
                    expenditure={"home_and_contents": 900_00, "food_and_housekeeping": 700_00, "utilities": 200_00})
    assert st_.disposable == 200_00
    result = affordability(st_, 45_00, "weekly", guidelines)
    assert result.monthly_installment_minor == 195_00 and result.fits
    assert len(result.flags) == 1 and "above the guideline of 60000" in result.flags[0]
    assert not affordability(st_, 50_00, "weekly", guidelines).fits  # 216.67 a month
    low = Statement(1, 0, {"earnings": 1_000_00}, {"food_and_housekeeping": 100_00})
    assert "under half" in affordability(low, 10_00, "monthly", guidelines).flags[0]
