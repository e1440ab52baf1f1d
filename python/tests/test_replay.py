"""clearsim.replay: every input form gives the same day, the same as the
command line's files row by row, and bad rows raise InputError naming
the table, row and field."""

import csv
import json
import subprocess

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clearsim


def test_generate_matches_the_command_line(cli, tmp_path, scenario, day):
    out = tmp_path / "gen"
    config = scenario.path
    subprocess.run([cli, "generate", config, "--out", out, "--volume", str(scenario.volume), "-q"], check=True)
    assert day.payments.to_csv(index=False) == (out / "payments.csv").read_text()
    assert len(day.payments) > 1000


def test_every_input_form_gives_the_same_day(day, day_files):
    forms = [
        (day.participants, day.payments),
        (pa.Table.from_pandas(day.participants), pa.Table.from_pandas(day.payments)),
        (pl.from_pandas(day.participants), pl.from_pandas(day.payments)),
        day_files,
        tuple(str(f) for f in day_files),
    ]
    first = clearsim.replay(*forms[0], strategy="rtgs", gridlock_every="5m")
    for form in forms[1:]:
        other = clearsim.replay(*form, strategy="rtgs", gridlock_every="5m")
        assert other.settlements.equals(first.settlements)
        assert other.balances.equals(first.balances)
        mine, theirs = json.loads(first.json), json.loads(other.json)
        for named in ("participants_file", "payments_file"):
            mine.pop(named), theirs.pop(named)
        assert mine == theirs


def test_sliced_and_chunked_tables_read_their_own_rows(day):
    payments = pa.Table.from_pandas(day.payments)
    half = len(day.payments) // 2
    chunked = pa.concat_tables([payments.slice(0, half), payments.slice(half)])
    whole = clearsim.replay(day.participants, payments)
    assert clearsim.replay(day.participants, chunked).settlements.equals(whole.settlements)
    tail = clearsim.replay(day.participants, payments.slice(half))
    assert tail.settlements.column("id").to_pylist() == payments.column("id").to_pylist()[half:]


def test_time_columns_read_as_clock_text(day):
    payments = day.payments.copy()
    payments["submit"] = pd.to_timedelta(payments["submit"])
    typed = clearsim.replay(day.participants, payments)
    assert typed.settlements.equals(clearsim.replay(day.participants, day.payments).settlements)


@pytest.mark.parametrize(
    "strategy, options",
    [
        ("rtgs", {}),
        ("rtgs+bypass", {"gridlock_every": "1m"}),
        ("dns", {"cycles": ["10:00", "14:00", "16:30"]}),
        ("chips", {"max_position_pct": 150}),
    ],
)
def test_replay_equals_the_command_line_row_by_row(cli, tmp_path, day_files, strategy, options):
    participants, payments = day_files
    out = tmp_path / "cli"
    flags = []
    for key, value in options.items():
        value = ",".join(value) if isinstance(value, list) else str(value)
        flags += [f"--{key.replace('_', '-')}", value]
    subprocess.run(
        [cli, "replay", "--participants", participants, "--payments", payments,
         "--strategy", strategy, *flags, "--out", out, "-q"],
        check=True,
    )
    day = clearsim.replay(participants, payments, strategy=strategy, **options)
    with open(out / "settlements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    settlements = day.settlements.to_pylist()
    assert len(rows) == len(settlements)
    for theirs, mine in zip(rows, settlements):
        assert theirs["id"] == mine["id"] and theirs["status"] == mine["status"]
        assert (theirs["delay_ms"] or None) == (None if mine["delay_ms"] is None else str(mine["delay_ms"]))
    assert json.loads((out / "summary.json").read_text()) == day.summary
    assert pq.read_table(out / "balances.parquet").equals(day.balances)
    assert pq.read_table(out / "settlements.parquet").equals(day.settlements)
    # The same output set through Python.
    mine = day.report(tmp_path / "py")
    for name in ("settlements.csv", "balances.csv", "summary.json", "report.md"):
        assert (mine / name).read_bytes() == (out / name).read_bytes(), name


def test_channels_route_by_instrument(day, scenario):
    routed = clearsim.replay(day.participants, day.payments, channels=scenario.path)
    assert "channels" in routed.summary["strategy"] or ";" in routed.summary["strategy"] or routed.summary["strategy"]
    counts = routed.settlements.group_by("status").aggregate([("id", "count")]).to_pylist()
    assert sum(c["id_count"] for c in counts) == len(day.payments)


@pytest.mark.parametrize(
    "change, table, row, field",
    [
        (lambda p: p.assign(amount=p["amount"].where(p.index != 4, -3)), "payments", 5, "amount"),
        (lambda p: p.assign(sender=p["sender"].where(p.index != 9, "NOBODY")), "payments", 10, "sender"),
        (lambda p: p.assign(submit=p["submit"].where(p.index != 2, "25:00:00")), "payments", 3, "submit"),
        (lambda p: p.assign(id=p["id"].where(p.index != 7, "P0")), "payments", 8, "id"),
    ],
)
def test_bad_rows_name_the_table_row_and_field(day, change, table, row, field):
    with pytest.raises(clearsim.InputError) as raised:
        clearsim.replay(day.participants, change(day.payments.copy()))
    message = str(raised.value)
    assert message.startswith(f"{table} (pandas DataFrame): row {row}"), message
    assert f"field `{field}`" in message
    assert isinstance(raised.value, ValueError)


def test_bad_files_and_options_raise_input_errors(day, day_files, tmp_path):
    participants, payments = day_files
    bad = tmp_path / "bad.csv"
    bad.write_text(payments.read_text().replace(",P3,", ",P3,", 1).replace("\nP5,", "\nP5,x", 1))
    with pytest.raises(clearsim.InputError, match=rf"{bad}: row 6"):
        clearsim.replay(participants, bad)
    with pytest.raises(clearsim.InputError, match="missing column"):
        clearsim.replay(day.participants, day.payments.drop(columns=["amount"]))
    with pytest.raises(clearsim.InputError, match="--strategy: `nope` is not a strategy"):
        clearsim.replay(day.participants, day.payments, strategy="nope")
    with pytest.raises(clearsim.InputError, match="gridlock_every"):
        clearsim.replay(day.participants, day.payments, gridlock_every="soon")
    with pytest.raises(clearsim.InputError, match="cannot read"):
        clearsim.replay(tmp_path / "missing.csv", payments)
    with pytest.raises(TypeError):
        clearsim.replay(day.participants, 42)


def test_report_refuses_a_directory_it_did_not_write(day, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(clearsim.InputError, match="--out"):
        clearsim.replay(day.participants, day.payments).report(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_a_dated_table_is_refused_not_merged_into_one_day(day):
    dated = day.payments.assign(date="2026-01-05")
    with pytest.raises(clearsim.InputError, match="several business days"):
        clearsim.replay(day.participants, dated)


def _two_days(day):
    """The day twice, as 2026-01-05 and 2026-01-06 (ids made unique)."""
    first = day.payments.assign(date="2026-01-05")
    second = day.payments.assign(date="2026-01-06", id="b" + day.payments["id"])
    return pd.concat([second, first], ignore_index=True)


def test_replay_days_matches_the_command_line_file_by_file(cli, day, tmp_path):
    month = _two_days(day)
    participants, payments = tmp_path / "participants.csv", tmp_path / "month.csv"
    day.participants.to_csv(participants, index=False)
    month.to_csv(payments, index=False)
    out = tmp_path / "cli"
    subprocess.run(
        [cli, "replay", "--participants", participants, "--payments", payments,
         "--carry-balances", "--carry-queue", "--out", out, "-q"],
        check=True,
    )
    days = clearsim.replay_days(participants, payments, carry_balances=True, carry_queue=True)
    assert days.json == (out / "summary.json").read_text()
    assert [d["date"] for d in days.summary["days"]] == ["2026-01-05", "2026-01-06"]
    for name in ("settlements", "balances", "days"):
        assert days._tables[f"{name}.csv"] == (out / f"{name}.csv").read_bytes()
    # From DataFrames (a date column of dates too): the same tables.
    typed = month.assign(date=pd.to_datetime(month["date"]).dt.date)
    framed = clearsim.replay_days(day.participants, typed, carry_balances=True, carry_queue=True)
    assert framed.settlements.equals(days.settlements)
    assert framed.days.equals(days.days)
    # Every payment is accounted for on its last day: settled + unsettled.
    settled = (days.settlements["status"] == "settled").sum()
    unsettled = (days.settlements["status"] == "unsettled").sum()
    assert settled + unsettled == len(month)
    written = days.report(tmp_path / "py")
    assert (written / "report.html").exists()
    assert (written / "settlements.csv").read_bytes() == (out / "settlements.csv").read_bytes()


def test_replay_days_needs_a_date_column(day):
    with pytest.raises(clearsim.InputError, match="no `date` column"):
        clearsim.replay_days(day.participants, day.payments)
