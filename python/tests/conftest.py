"""Shared fixtures: the repository's configs, a small generated day, and
the command line to compare with."""

import os
import pathlib
import shutil

import pytest

import clearsim

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
#: A quick look at the city: 2 % of its daily volume.
VOLUME = 0.02


def clearsim_binary():
    """The command line: $CLEARSIM_BIN, else a build in target/."""
    given = os.environ.get("CLEARSIM_BIN")
    if given:
        return given
    for profile in ("ci", "release", "debug"):
        candidate = ROOT / "target" / profile / "clearsim"
        if candidate.exists():
            return str(candidate)
    return shutil.which("clearsim")


@pytest.fixture(scope="session")
def cli():
    binary = clearsim_binary()
    if binary is None:
        pytest.skip("no clearsim binary: build it (cargo build --profile ci) or set CLEARSIM_BIN")
    return binary


@pytest.fixture(scope="session")
def scenario():
    return clearsim.Scenario.from_toml(CONFIGS / "chengdu-2005.toml", volume=VOLUME)


@pytest.fixture(scope="session")
def day(scenario):
    """Day 1 of the scenario, as DataFrames."""
    return clearsim.generate(scenario)


@pytest.fixture(scope="session")
def day_files(day, tmp_path_factory):
    """The same day as CSV files, as `clearsim generate` writes them."""
    folder = tmp_path_factory.mktemp("day")
    day.participants.to_csv(folder / "participants.csv", index=False)
    day.payments.to_csv(folder / "payments.csv", index=False)
    return folder / "participants.csv", folder / "payments.csv"
