"""clearsim.dask: replications spread over worker processes, merged into
exactly the summary one machine writes."""

import pytest

import clearsim

distributed = pytest.importorskip("dask.distributed")


def test_dask_compare_is_byte_identical(scenario):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            spread = clearsim.dask.compare(scenario, ["design", "rtgs"], replications=4, client=client)
    whole = clearsim.compare(scenario, ["design", "rtgs"], replications=4, progress=False)
    assert spread.json == whole.json
    assert list(spread.summary["seeds"]) == list(whole.summary["seeds"])
