"""Studies from Python: each is the command line's, summary byte for
byte; their tables are the report's CSV tables."""

import json
import signal
import subprocess
import threading
import time

import pandas as pd
import pytest

import clearsim
from conftest import CONFIGS, VOLUME


def cli_summary(cli, tmp_path, *args):
    out = tmp_path / "cli"
    subprocess.run([cli, *map(str, args), "--out", out, "-q"], check=True)
    return (out / "summary.json").read_text()


def test_run_is_the_command_lines(cli, tmp_path, scenario):
    study = clearsim.run(scenario, replications=2, days=2, progress=False)
    assert study.json == cli_summary(
        cli, tmp_path, "run", scenario.path, "--volume", VOLUME, "--replications", 2, "--days", 2
    )
    assert study.kind.startswith("clearsim.run")
    per_day = study.per_day
    assert list(per_day["day"].unique()) == [1, 2] and len(per_day) == 4
    instruments = study.instruments
    # Every payment accounted for: settled + unsettled + carried.
    assert (instruments["settled"] + instruments["unsettled"] + instruments["carried"] == instruments["payments"]).all()
    assert set(study.headline["days"]) <= {"pooled", "per_day"} or len(study.headline) > 0
    assert "cheque" in set(study.channels["flow"]) | set(instruments["flow"])


def test_compare_pairs_designs_on_common_streams(cli, tmp_path, scenario):
    designs = ["design", "rtgs", "dns:hourly"]
    study = clearsim.compare(scenario, designs, replications=2, progress=False)
    assert study.json == cli_summary(
        cli, tmp_path, "compare", scenario.path, "--volume", VOLUME, "--replications", 2,
        "--strategies", "; ".join(designs),
    )
    paired = study.paired
    assert set(paired["design"]) == {"rtgs", "dns:hourly"}
    assert set(paired["versus"]) == {"design"}
    assert {"mean", "ci95_low", "ci95_high"} <= set(paired.columns)


def test_sweep_and_plan(cli, tmp_path, scenario):
    sweep = clearsim.sweep(scenario, liquidity=(0.0, 1.0), steps=3, progress=False)
    assert sweep.json == cli_summary(cli, tmp_path / "s", "sweep", scenario.path, "--volume", VOLUME, "--steps", 3)
    assert len(sweep.points) >= 3
    before = clearsim.Scenario.from_toml(CONFIGS / "chengdu-2005.toml")
    after = clearsim.Scenario.from_toml(CONFIGS / "chengdu-2010.toml")
    plan = clearsim.plan(before, after, days=1, progress=False)
    cli_plan = cli_summary(cli, tmp_path / "p", "plan", before.path, after.path, "--days", 1)
    assert plan.json == cli_plan
    assert {"flow", "value_weighted_mean_h_before"} & set(plan.transit.columns) or len(plan.transit) > 0


def test_summaries_read_back_and_merge_exactly(tmp_path, scenario):
    whole = clearsim.compare(scenario, "design; rtgs", replications=3, progress=False)
    shards = [
        clearsim.compare(scenario, "design; rtgs", replications=3, shard=f"{k}/3", progress=False)
        for k in (1, 2, 3)
    ]
    merged = clearsim.merge(shards)
    assert merged.json == whole.json
    saved = whole.report(tmp_path / "whole")
    assert (saved / "report.html").exists() and (saved / "figures.csv").exists()
    again = clearsim.read_summary(saved)
    assert again.json == whole.json
    pd.testing.assert_frame_equal(again.paired, whole.paired)
    # A directory, summary text and studies all merge; a seed twice is refused.
    assert clearsim.merge([saved / "summary.json"]).json == whole.json
    with pytest.raises(clearsim.InputError, match="appears twice"):
        clearsim.merge([saved, shards[0].json, shards[1], shards[2]])


def test_scenario_from_text_and_overrides(scenario):
    text = (CONFIGS / "netting-compare.toml").read_text()
    from_text = clearsim.Scenario.from_toml(text, volume=0.05)
    assert from_text.name == "netting-compare"
    assert clearsim.run(from_text, progress=False).summary["study"]["scenario"] == "netting-compare"
    with pytest.raises(clearsim.InputError, match="volume"):
        clearsim.run(scenario.with_(volume=0), progress=False)
    with pytest.raises(clearsim.InputError, match="designs: "):
        clearsim.compare(scenario, ["rtgs", "no-such-design"], progress=False)
    with pytest.raises(clearsim.InputError, match="shard"):
        clearsim.compare(scenario, "rtgs", replications=2, shard="3/2", progress=False)
    with pytest.raises(clearsim.InputError):
        clearsim.Scenario.from_toml("name = 'x'\nseed = [")


def test_threads_and_progress(scenario):
    seen = []
    clearsim._native.study(
        "run", scenario.path, scenario.text, volume=VOLUME, replications=3, threads=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (3, 3)
    with pytest.raises(clearsim.InputError, match="threads"):
        clearsim.run(scenario, threads=0, progress=False)


def test_long_calls_release_the_gil(scenario):
    """A Python thread keeps counting while a study runs: at a good part of
    the rate it counts alone. A held GIL would let it count only in the
    switch interval before the call took the GIL (5 ms)."""
    counted = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counted[0] += 1

    def counting_for(call):
        counted[0] = 0
        done.clear()
        counter = threading.Thread(target=count)
        counter.start()
        started = time.perf_counter()
        call()
        during, elapsed = counted[0], time.perf_counter() - started
        done.set()
        counter.join()
        return during, elapsed

    alone, alone_s = counting_for(lambda: time.sleep(0.3))
    during, elapsed = counting_for(
        lambda: clearsim.run(scenario.with_(volume=0.5), replications=4, threads=1, progress=False)
    )
    assert elapsed > 0.1
    assert during > 0.25 * (alone / alone_s) * elapsed, (during, elapsed, alone, alone_s)


def test_ctrl_c_interrupts_a_study(scenario):
    """SIGINT raises KeyboardInterrupt promptly; the study stops early."""
    full = scenario.with_(volume=0.2)
    timer = threading.Timer(0.5, lambda: signal.raise_signal(signal.SIGINT))
    started = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        clearsim.run(full, replications=200, threads=1, progress=False)
    assert time.perf_counter() - started < 5.0


def test_optimise_is_the_command_lines(cli, tmp_path):
    game = CONFIGS / "games" / "three-bank-cycle.toml"
    study = clearsim.optimise(game, ["design", "rtgs"], levels=4, replications=2, progress=False)
    assert study.json == cli_summary(cli, tmp_path, "optimise", game, "--strategies", "design,rtgs", "--levels", 4, "--replications", 2)
    equilibria = study.equilibria
    assert list(equilibria["design"]) == ["design", "rtgs"]
    assert (equilibria["equilibrium_cost_total_fen"] >= equilibria["planner_cost_total_fen"] - 1e-6).all()
    with pytest.raises(clearsim.InputError, match=r"\[costs\]"):
        clearsim.optimise(CONFIGS / "netting-compare.toml", progress=False)


def test_critical_is_the_command_lines(cli, tmp_path):
    config = CONFIGS / "netting-compare.toml"
    study = clearsim.critical(config, at="10:00", volume=0.05, replications=2, progress=False)
    assert study.json == cli_summary(
        cli, tmp_path, "critical", config, "--at", "10:00", "--volume", 0.05, "--replications", 2
    )
    ranking = study.ranking
    assert len(ranking) == 50 and list(ranking["rank"]) == list(range(1, 51))
    means = list(ranking["knock_on_unsettled_value_fen_mean"])
    assert means == sorted(means, reverse=True)
    with pytest.raises(clearsim.InputError, match="at: "):
        clearsim.critical(config, at="25:00", progress=False)
    assert (ranking["participants_touched_mean"] >= 0).all()


def test_critical_merger_is_the_command_lines(cli, tmp_path):
    config = CONFIGS / "netting-compare.toml"
    study = clearsim.critical(config, merge="B01,B02", volume=0.05, replications=3, progress=False)
    assert study.json == cli_summary(
        cli, tmp_path, "critical", config, "--merge", "B01,B02", "--volume", 0.05, "--replications", 3
    )
    per_seed = study.table("merger")
    assert sorted(set(per_seed["seed"])) == [42, 43, 44]
    estimates = study.table("merger-estimates").set_index("figure")
    internalised = per_seed[per_seed["figure"] == "internalised"]["merged"]
    assert estimates.loc["internalised", "merged_mean"] == pytest.approx(internalised.mean())
    assert (estimates["replications"] == 3).all()
    with pytest.raises(clearsim.InputError, match="not a participant"):
        clearsim.critical(config, merge="B01,NOPE", progress=False)


def test_critical_liquidity_shock_is_the_command_lines(cli, tmp_path):
    config = CONFIGS / "netting-compare.toml"
    study = clearsim.critical(config, at="10:00", liquidity=50, volume=0.05, progress=False)
    assert study.json == cli_summary(
        cli, tmp_path, "critical", config, "--at", "10:00", "--liquidity", 50, "--volume", 0.05
    )
    assert all(d.startswith("liquidity:") for d in study.summary["designs"])
    with pytest.raises(clearsim.InputError, match="--liquidity"):
        clearsim.critical(config, liquidity=0, progress=False)
