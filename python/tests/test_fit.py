"""clearsim.fit: the command line's fit from DataFrames or files, file
for file; a fitted scenario Python can run and scale; bad input raises
InputError naming what is wrong."""

import subprocess

import pandas as pd
import pytest

import clearsim


def _cli_fit(cli, day_files, out, *flags):
    """``clearsim fit`` of the day's files into ``out`` with ``flags``."""
    participants, payments = day_files
    subprocess.run(
        [cli, "fit", "--participants", participants, "--payments", payments,
         "--instrument-column", *flags, "--out", out, "-q"],
        check=True,
    )


def test_fit_matches_the_command_line_file_by_file(cli, day, day_files, tmp_path):
    fitted = clearsim.fit(day.participants, day.payments, instrument_column=True, twin_days=2)
    out = tmp_path / "fit"
    participants, payments = day_files
    _cli_fit(cli, day_files, out, "--twin-days", "2")
    assert fitted.toml == (out / "scenario.toml").read_text()
    for name in ("fit.csv", "twin.csv"):
        assert fitted._tables[name] == (out / name).read_bytes(), name
    # Files or DataFrames: the same fit.
    from_files = clearsim.fit(str(participants), str(payments), instrument_column=True, twin_days=2)
    assert from_files.toml == fitted.toml
    written = tmp_path / "written"
    fitted.write(written)
    assert (written / "scenario.toml").read_text() == fitted.toml


def test_observed_pairs_are_the_command_lines(cli, day, day_files, tmp_path):
    fitted = clearsim.fit(day.participants, day.payments, instrument_column=True,
                          twin_days=1, observed_pairs=True)
    out = tmp_path / "fit"
    _cli_fit(cli, day_files, out, "--observed-pairs", "--twin-days", "1")
    assert fitted.toml == (out / "scenario.toml").read_text()
    laws = fitted.laws
    # Within the city each instrument draws its observed pairs; across the
    # boundary, gravity.
    within = ~laws["instrument"].str.startswith("cross-city")
    assert (laws.loc[within, "observed_pairs"] > 0).all(), laws[["instrument", "observed_pairs"]]
    assert (laws.loc[~within, "observed_pairs"] == 0).all()
    assert "pairs = [" in fitted.toml


def test_fitted_laws_twin_and_a_scaled_run(day):
    fitted = clearsim.fit(day.participants, day.payments, instrument_column=True, twin_days=2)
    laws = fitted.laws
    assert set(laws["instrument"]) == set(day.payments["instrument"])
    # Each law within the 95 % Kolmogorov–Smirnov bound of its sample
    # (1.36/√n; a law fitted to the sample comes closer still).
    assert (laws["ks_law"] < 1.36 / laws["payments"] ** 0.5).all(), laws[["instrument", "payments", "ks_law"]]
    twin = fitted.twin
    assert list(twin["days"].unique()) == ["real", "twin_at_observed_openings", "twin_as_run"]
    # The twin's days carry about as many payments as the real one.
    real = twin.loc[twin["days"] == "real", "payments"].iloc[0]
    synthetic = twin.loc[twin["days"] == "twin_as_run", "payments"].mean()
    assert abs(synthetic / real - 1) < 0.05
    # What if volume doubled: the fitted scenario, scaled, runs.
    doubled = fitted.scenario(volume=2.0)
    study = clearsim.run(doubled, progress=False)
    per_day = study.per_day
    assert len(per_day) == 1
    assert "<figure" in fitted._repr_html_()


def test_bad_fits_raise_input_errors(day):
    with pytest.raises(clearsim.InputError, match="twin-days: 0 is not 1 to 100"):
        clearsim.fit(day.participants, day.payments, twin_days=0)
    outside = day.payments[day.payments["instrument"].str.startswith("cross-city")]
    mixed = day.payments.copy()
    with pytest.raises(clearsim.InputError, match="mixes payments within the city"):
        # Every payment one instrument: within the city and across it.
        clearsim.fit(day.participants, mixed)
    assert len(outside) > 0


def test_merger_is_the_command_lines(cli, day, day_files, tmp_path):
    replayed = clearsim.replay(day.participants, day.payments)
    merger = replayed.merger("ICBC", "ABC")
    participants, payments = day_files
    out = tmp_path / "merger"
    subprocess.run(
        [cli, "replay", "--participants", participants, "--payments", payments,
         "--merge", "ICBC,ABC", "--format", "csv", "--out", out, "-q"],
        check=True,
    )
    written = pd.read_csv(out / "merger.csv", dtype={"figure": str, "unit": str})
    pd.testing.assert_frame_equal(merger, written, check_dtype=False)
    rows = merger.set_index("figure")
    for side in ("baseline", "merged"):
        parts = rows.loc[["settled", "unsettled", "carried", "internalised"], side].sum()
        assert parts == rows.loc["payments", side]
    assert rows.loc["internalised", "merged"] > 0
    with pytest.raises(clearsim.InputError, match="two different participants"):
        replayed.merger("ICBC", "ICBC")


def test_critical_is_the_command_lines(cli, day, day_files, tmp_path):
    # Scarce openings, so that a default reaches the others.
    scarce = day.participants.copy()
    scarce["opening_balance"] //= 50
    replayed = clearsim.replay(scarce, day.payments)
    ranked = replayed.critical()
    participants, payments = tmp_path / "scarce.csv", day_files[1]
    scarce.to_csv(participants, index=False)
    out = tmp_path / "critical"
    subprocess.run(
        [cli, "replay", "--participants", participants, "--payments", payments,
         "--critical", "--format", "csv", "--out", out, "-q"],
        check=True,
    )
    written = pd.read_csv(out / "critical.csv", dtype={"id": str})
    # One day: no interval (empty cells, however each reader shows them).
    intervals = [c for c in ranked.columns if "ci95" in c]
    assert ranked[intervals].isna().all().all() and written[intervals].isna().all().all()
    pd.testing.assert_frame_equal(
        ranked.drop(columns=intervals), written.drop(columns=intervals), check_dtype=False
    )
    means = list(ranked["knock_on_unsettled_value_fen_mean"])
    assert means == sorted(means, reverse=True) and means[0] > 0
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    with pytest.raises(clearsim.InputError, match="at: "):
        replayed.critical(at="25:00")
