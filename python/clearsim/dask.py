"""Studies spread over a Dask cluster: each worker runs one shard of the
replications (``shard="K/N"``), and the shards are merged by the rule of
``clearsim merge`` — the merged summary is byte for byte the one a single
machine running every seed writes.

>>> from dask.distributed import Client, LocalCluster
>>> client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
>>> study = clearsim.dask.compare(scenario, ["rtgs", "dns:hourly"], replications=40, client=client)
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import clearsim


def _shard(kind: str, scenario: clearsim.Scenario, shard: str, options: dict) -> str:
    """One shard, on a worker: its summary.json (a plain string travels
    between processes without pickling the study)."""
    function = getattr(clearsim, kind)
    return function(scenario, shard=shard, progress=False, **options).json


def _spread(kind: str, scenario: Any, replications: int, shards: Optional[int], client: Any, options: dict) -> clearsim.Study:
    if client is None:
        from dask.distributed import default_client

        client = default_client()
    scenario = clearsim._scenario(scenario)
    if shards is None:
        workers = len(client.scheduler_info().get("workers", {})) or 1
        shards = min(replications, workers)
    if not 1 <= shards <= replications:
        raise clearsim.InputError(f"shards: {shards} is not from 1 to the {replications} replications")
    options = dict(options, replications=replications)
    futures = [
        client.submit(_shard, kind, scenario, f"{k}/{shards}", options, pure=False)
        for k in range(1, shards + 1)
    ]
    return clearsim.merge(client.gather(futures))


def compare(
    scenario: Any,
    designs: Union[None, str, Sequence[str]] = None,
    *,
    replications: int,
    shards: Optional[int] = None,
    client: Any = None,
    threads: Optional[int] = 1,
    **options: Any,
) -> clearsim.Study:
    """:func:`clearsim.compare` with its replications in ``shards`` (one
    per worker by default) on the Dask ``client`` (the default client if
    none). Each shard runs on ``threads`` threads of its worker."""
    options.update(designs=designs, threads=threads)
    return _spread("compare", scenario, replications, shards, client, options)


def run(
    scenario: Any,
    *,
    replications: int,
    shards: Optional[int] = None,
    client: Any = None,
    threads: Optional[int] = 1,
    **options: Any,
) -> clearsim.Study:
    """:func:`clearsim.run` spread over a Dask cluster, as :func:`compare`."""
    options.update(threads=threads)
    return _spread("run", scenario, replications, shards, client, options)
