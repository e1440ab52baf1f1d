"""docs/notebooks/plan.ipynb runs from top to bottom (so it cannot rot)
and draws its chart."""

import os
import pathlib

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "plan.ipynb"


def test_the_plan_notebook_runs(tmp_path, monkeypatch):
    # The notebook runs in its own folder: the path must not be relative.
    out = pathlib.Path(os.environ.get("CLEARSIM_NOTEBOOK_OUT", tmp_path)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("CLEARSIM_NOTEBOOK_OUT", str(out))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    nbformat.write(notebook, out / "plan.ipynb")
    assert (out / "plan-transit.png").stat().st_size > 10_000
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
