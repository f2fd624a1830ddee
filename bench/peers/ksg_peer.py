#!/usr/bin/env python3
"""Peer for `revertlm bench leakage`: KSG estimator 1 (Kraskov et al. 2004) of I(X; Y) for
multivariate X, Y, written exactly like scikit-learn's `_compute_mi_cc`
(sklearn/feature_selection/_mutual_info.py) but without its 1-D reshape and its max(0, .) clamp:
k-th neighbour radius in the joint space under the Chebyshev norm (NearestNeighbors), radius moved
one ulp towards 0, then marginal counts with KDTree.query_radius(count_only=True) minus the point
itself.

Usage: ksg_peer.py DATA.f32 N DX DY K   (DATA: N rows of DX+DY float32, row-major, X first)
Prints one JSON object: {"mi": nats, "ms": wall time of the estimate, "sklearn": version}.
"""
import json
import sys
import time

import numpy as np
import sklearn
from scipy.special import digamma
from sklearn.neighbors import KDTree, NearestNeighbors


def ksg(x, y, k):
    n = x.shape[0]
    xy = np.hstack((x, y))
    nn = NearestNeighbors(metric="chebyshev", n_neighbors=k)
    nn.fit(xy)
    radius = nn.kneighbors()[0]
    radius = np.nextafter(radius[:, -1], 0)
    kd = KDTree(x, metric="chebyshev")
    nx = np.array(kd.query_radius(x, radius, count_only=True, return_distance=False)) - 1.0
    kd = KDTree(y, metric="chebyshev")
    ny = np.array(kd.query_radius(y, radius, count_only=True, return_distance=False)) - 1.0
    return digamma(n) + digamma(k) - np.mean(digamma(nx + 1)) - np.mean(digamma(ny + 1))


def main():
    path, n, dx, dy, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    data = np.fromfile(path, dtype=np.float32).astype(np.float64).reshape(n, dx + dy)
    x, y = np.ascontiguousarray(data[:, :dx]), np.ascontiguousarray(data[:, dx:])
    t0 = time.perf_counter()
    mi = ksg(x, y, k)
    ms = (time.perf_counter() - t0) * 1000.0
    print(json.dumps({"mi": float(mi), "ms": ms, "sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
