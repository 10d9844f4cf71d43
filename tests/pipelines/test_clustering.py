"""Clustering speaker embeddings: automatic count, given count and bounds, small clusters, long inputs."""

from __future__ import annotations

import numpy as np

from app.pipelines.clustering import ClusteringOptions, cluster_embeddings

OPTIONS = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0)


def speakers(counts: list[int], *, spread: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[: len(counts)]
    vectors = np.concatenate(
        [centre + spread * rng.standard_normal((n, 16)) for centre, n in zip(centres, counts, strict=True)]
    )
    truth = np.repeat(np.arange(len(counts)), counts)
    return vectors, truth


def agreement(labels: np.ndarray, truth: np.ndarray) -> bool:
    """Same partition up to renaming."""
    pairs = set(zip(labels.tolist(), truth.tolist(), strict=True))
    return len(pairs) == len(set(labels.tolist())) == len(set(truth.tolist()))


def test_finds_the_number_of_speakers() -> None:
    vectors, truth = speakers([30, 20, 10])
    labels = cluster_embeddings(vectors, np.ones(len(vectors)), OPTIONS)
    assert agreement(labels, truth)
    assert labels[0] == 0 and labels.max() == 2


def test_one_speaker_stays_one() -> None:
    vectors, _ = speakers([40])
    assert set(cluster_embeddings(vectors, np.ones(40), OPTIONS).tolist()) == {0}


def test_given_count_and_bounds_are_honoured() -> None:
    vectors, _ = speakers([30, 20, 10])
    weights = np.ones(len(vectors))
    exact = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0, num_clusters=2)
    assert cluster_embeddings(vectors, weights, exact).max() == 1
    at_most = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0, max_clusters=2)
    assert cluster_embeddings(vectors, weights, at_most).max() == 1
    one, _ = speakers([40])
    at_least = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0, min_clusters=2)
    assert cluster_embeddings(one, np.ones(40), at_least).max() == 1


def test_a_given_count_finds_a_quiet_speaker_that_was_folded_away() -> None:
    vectors, truth = speakers([30, 2])
    weights = np.full(len(vectors), 0.4)  # the second speaker talks for 0.8 s, under the minimum of a speaker
    given = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0, merge_similarity=0.75, num_clusters=2)
    assert agreement(cluster_embeddings(vectors, weights, given), truth)


def test_a_given_count_sets_an_outlier_apart_rather_than_split_one_voice() -> None:
    rng = np.random.default_rng(0)
    near, nearer = np.eye(16)[0], np.eye(16)[0] + 0.5 * np.eye(16)[1]  # centroids 0.89 alike: one voice
    vectors = np.concatenate([centre + 0.05 * rng.standard_normal((20, 16)) for centre in (near, nearer)])
    given = ClusteringOptions(threshold=0.5, min_cluster_weight=1.0, merge_similarity=0.75, num_clusters=2)

    labels = cluster_embeddings(vectors, np.ones(len(vectors)), given)

    assert sorted(np.bincount(labels).tolist()) == [1, 39]  # cutting the tree gave 20 and 20


def test_a_given_count_is_met_where_items_repeat_exactly() -> None:
    vectors = np.stack([np.eye(8)[0]] * 5 + [np.eye(8)[1]] * 5)  # the tree cannot be cut into three
    given = ClusteringOptions(threshold=0.5, min_cluster_weight=0.0, merge_similarity=0.75, num_clusters=3)
    assert cluster_embeddings(vectors, np.ones(10), given).max() == 2


def test_merging_alike_clusters_stops_at_a_given_count() -> None:
    rng = np.random.default_rng(1)
    near, nearer = np.eye(4)[0], np.eye(4)[0] + 0.6 * np.eye(4)[1]  # two clusters, centroids 0.86 alike
    vectors = np.concatenate([centre + 0.01 * rng.standard_normal((5, 4)) for centre in (near, nearer)])
    given = ClusteringOptions(threshold=0.1, min_cluster_weight=0.0, merge_similarity=0.75, num_clusters=2)
    assert cluster_embeddings(vectors, np.ones(10), given).max() == 1


def test_tiny_clusters_join_their_nearest_speaker() -> None:
    vectors, _ = speakers([30, 1])
    weights = np.full(len(vectors), 0.4)  # the stray item stands for 0.4 s of speech
    assert set(cluster_embeddings(vectors, weights, OPTIONS).tolist()) == {0}


def test_long_inputs_cluster_a_sample_and_assign_the_rest() -> None:
    vectors, truth = speakers([400, 300])
    labels = cluster_embeddings(vectors, np.ones(len(vectors)), OPTIONS, max_items=100)
    assert agreement(labels, truth)


def test_empty_and_single() -> None:
    assert cluster_embeddings(np.zeros((0, 16)), np.zeros(0), OPTIONS).size == 0
    assert cluster_embeddings(np.ones((1, 16)), np.ones(1), OPTIONS).tolist() == [0]
