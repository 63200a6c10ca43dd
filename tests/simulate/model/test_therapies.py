"""Biologic effect profiles (simulation.md) and what the equations must give for them."""

from __future__ import annotations

import numpy as np
import pytest

from atopic.errors import InvalidInput
from atopic.simulate.model import BIOLOGICS, Baseline, Effects, Treatment, biologic, treat


def test_profiles_are_those_of_the_reference_page() -> None:
    # simulation.md "Biologics as effect profiles"; e9 defaults to 1 (authors' code; therapies doc).
    want = {
        "dupilumab": {"e1": 0.99, "e2": 0.99},
        "lebrikizumab": {"e2": 0.99, "e9": 1.0},
        "tralokinumab": {"e2": 0.99, "e9": 0.0},
        "secukinumab": {"e3": 0.99},
        "fezakinumab": {"e4": 0.99},
        "nemolizumab": {"e5": 0.99},
        "tezepelumab": {"e6": 0.99},
        "gbr830": {"e7": 0.99},
        "rifng": {"e8": 210.0},
    }
    assert set(BIOLOGICS) == set(want)
    for name, nonzero in want.items():
        expected = Effects(**nonzero)
        assert BIOLOGICS[name] == expected
    assert biologic("GBR 830") == BIOLOGICS["gbr830"]
    assert biologic("Recombinant IFN-g") == BIOLOGICS["rifng"]


def test_unknown_biologic_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="dupilumab"):
        biologic("aspirin")


def test_effects_outside_their_range_are_refused() -> None:
    with pytest.raises(InvalidInput, match="e1"):
        Effects(e1=1.5)
    with pytest.raises(InvalidInput, match="e8"):
        Effects(e8=-1.0)


def test_combined_blockades_multiply_the_unblocked_fractions() -> None:
    both = biologic("nemolizumab").combine(biologic("dupilumab"))
    assert both.e1 == pytest.approx(0.99)
    assert both.e5 == pytest.approx(0.99)
    assert Effects(e3=0.5).combine(Effects(e3=0.5)).e3 == pytest.approx(0.75)


def test_dupilumab_lowers_easi_in_most_patients_and_more_than_secukinumab(
    patients: np.ndarray, baseline: Baseline
) -> None:
    # What the equations must give (the paper's qualitative finding): blocking IL-4 and IL-13
    # removes their inhibition of barrier recovery (b1, b2) and of pathogen elimination (b7, b8)
    # and cuts Th2 differentiation (k10 IL4e), while IL-17 enters only the barrier inhibition (b3,
    # small) and pathogen elimination (d5, blocking it slows elimination). Asserted: at week 16
    # EASI is below baseline in >= 90 % of patients on dupilumab, and the mean % improvement
    # exceeds secukinumab's.
    dup = treat(patients, baseline, [16], Treatment(biologic("dupilumab")))
    sec = treat(patients, baseline, [16], Treatment(biologic("secukinumab")))
    base = baseline.easi
    assert np.mean(dup.easi[:, 0] < base) >= 0.9
    imp_dup = np.mean(1 - dup.easi[:, 0] / base)
    imp_sec = np.mean(1 - sec.easi[:, 0] / base)
    assert imp_dup > imp_sec


def test_dupilumab_is_at_least_as_good_as_placebo_in_every_patient(
    patients: np.ndarray, baseline: Baseline
) -> None:
    # Blocking IL-4/IL-13 only removes inhibitions in every equation it enters (monotone model),
    # so no patient should do worse than on background care alone at week 16.
    dup = treat(patients, baseline, [16], Treatment(biologic("dupilumab")))
    pbo = treat(patients, baseline, [16], Treatment())
    assert np.all(dup.easi <= pbo.easi + 1e-6)
