"""Prometheus metrics of the worker (one registry per app, text format at ``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("ponte_worker_requests", "Analyze requests by outcome", ["outcome"], registry=r)
        self.request_seconds = Histogram(
            "ponte_worker_request_seconds", "Analyze request latency", buckets=LATENCY_BUCKETS, registry=r
        )
        self.labels_seconds = Histogram(
            "ponte_worker_labels_seconds", "Label path time in a worker process", buckets=LATENCY_BUCKETS, registry=r
        )
        self.llm_seconds = Histogram(
            "ponte_worker_llm_seconds", "LLM reply time in a worker process", buckets=LATENCY_BUCKETS, registry=r
        )
        self.replies = Counter("ponte_worker_replies", "Suggested replies by source", ["source"], registry=r)
        self.llm_fallbacks = Counter(
            "ponte_worker_llm_fallbacks", "LLM replies replaced by a template, by reason", ["reason"], registry=r
        )
        self.in_flight = Gauge("ponte_worker_in_flight", "Analyses running or waiting", registry=r)
        self.capacity = Gauge("ponte_worker_capacity", "Processes plus queue slots", registry=r)
        self.processes = Gauge("ponte_worker_processes", "Worker processes", registry=r)
        self.process_rss = Gauge(
            "ponte_worker_process_resident_bytes", "Resident memory of each worker process", ["pid"], registry=r
        )
