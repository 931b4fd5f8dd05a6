"""Dask: partition statistics computed on a LocalCluster and combined in partition order."""

from __future__ import annotations

import pytest

import olscheck
from olscheck.engine import check_streaming

from .test_streaming import assert_same, make_frame

dd = pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'olscheck[dask]')")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with distributed.Client(cluster) as connection:
        yield connection
    cluster.close()


@pytest.mark.parametrize("partitions, chunk_rows", [(1, 1000), (5, 13), (17, 1)])
def test_dask_matches_in_memory(client, partitions, chunk_rows):
    frame = make_frame(n=200, seed=21)
    reference = olscheck.check(frame, target="y", probe=False)
    data = dd.from_pandas(frame, npartitions=partitions, sort=False)
    assert_same(reference, check_streaming(data, target="y", chunk_rows=chunk_rows))


def test_dask_partitions_shorter_than_the_lags(client):
    # 40 partitions of ~5 rows: Breusch-Godfrey lags and Newey-West windows straddle several partitions
    frame = make_frame(n=200, seed=4)
    reference = olscheck.check(frame, target="y", probe=False, breusch_godfrey_order=7)
    data = dd.from_pandas(frame, npartitions=40, sort=False)
    assert_same(reference, check_streaming(data, target="y", breusch_godfrey_order=7))
