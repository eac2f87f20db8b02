"""SDK metric data in parts of at most N data points, in order, and parts joined back into one.

Why: a metric export larger than one request goes out as several; when one
fails after others were taken, only that one and the ones after it may be
kept for sending again -- the points taken before would be counted twice.
Pure functions over ``MetricsData`` (frozen dataclasses), built with
``dataclasses.replace``; resources, scopes and metrics keep their identity.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricsData

__all__ = ["joined_metrics", "split_metrics"]

_Piece = tuple[Any, Any, Any]  # (ResourceMetrics, ScopeMetrics, Metric holding some of its points)


def split_metrics(data: MetricsData, points_per_part: int) -> list[MetricsData]:
    """``data`` as parts of at most ``points_per_part`` data points each (a metric's points may span parts);
    ``[data]`` itself when it fits."""
    pieces: list[list[_Piece]] = [[]]
    room = points_per_part
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                points = list(getattr(metric.data, "data_points", None) or ())
                if not points:
                    pieces[-1].append((rm, sm, metric))
                while points:
                    if room <= 0:
                        pieces.append([])
                        room = points_per_part
                    taken, points = points[:room], points[room:]
                    room -= len(taken)
                    pieces[-1].append((rm, sm, dataclasses.replace(
                        metric, data=dataclasses.replace(metric.data, data_points=taken))))
    if len(pieces) == 1:
        return [data]
    return [_assembled(part) for part in pieces if part]


def joined_metrics(parts: Sequence[MetricsData]) -> MetricsData:
    """The parts as one ``MetricsData`` (a resource may appear once per part: a request may hold that)."""
    return MetricsData(resource_metrics=[rm for part in parts for rm in part.resource_metrics])


def _assembled(pieces: list[_Piece]) -> MetricsData:
    """One ``MetricsData`` of consecutive pieces, grouped under their resource and scope as they come."""
    resources: list[tuple[Any, list[tuple[Any, list[Any]]]]] = []
    for rm, sm, metric in pieces:
        if not resources or resources[-1][0] is not rm:
            resources.append((rm, []))
        scopes = resources[-1][1]
        if not scopes or scopes[-1][0] is not sm:
            scopes.append((sm, []))
        scopes[-1][1].append(metric)
    return MetricsData(resource_metrics=[
        dataclasses.replace(rm, scope_metrics=[dataclasses.replace(sm, metrics=metrics) for sm, metrics in scopes])
        for rm, scopes in resources])
