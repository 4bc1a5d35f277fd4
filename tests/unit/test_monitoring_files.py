"""The Grafana dashboard, the Prometheus alert rules and scrape configuration under ``infra/monitoring``: each
loads, has the shape its tool expects, and names only metrics the services export (a renamed metric would
otherwise leave a panel empty and an alert silent, with nothing to say so)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from flask import Flask
from prometheus_client import CollectorRegistry

from fathom_projector.metrics import ProjectorMetrics
from fathom_reports.webhooks.metrics import WebhookMetrics
from fathom_shared.pipeline_positions import PipelineCollector
from fathom_shared.web.operations import install_operations

MONITORING = Path(__file__).parents[2] / "infra" / "monitoring"
METRIC = re.compile(r"\b(fathom_[a-z0-9_]+|up)\b(?!\s*\()")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
DURATION = re.compile(r"\d+[smhd]")


def exported() -> set[str]:
    """Every sample name the services' registries can export, from the registries themselves."""
    registries = [ProjectorMetrics().registry, WebhookMetrics(CollectorRegistry()).registry,
                  install_operations(Flask(__name__), "api", lambda: None)]
    families = [family for registry in registries for family in registry.collect()]
    families += PipelineCollector._families()
    return {family.name + suffix for family in families for suffix in SUFFIXES.get(family.type, ("",))} | {"up"}


def exprs_of_dashboard() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def rules() -> list[dict]:
    loaded = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_the_dashboard_has_the_shape_grafana_imports() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["type"] == "timeseries" and panel["title"] and set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]


def test_every_alert_rule_says_how_bad_and_what_to_do() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)) and names
    for rule in rules():
        assert rule["labels"]["severity"] in {"page", "warning", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert "for" not in rule or DURATION.fullmatch(rule["for"]), rule["alert"]


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_metric_named_is_one_the_services_export(source: str) -> None:
    exprs = exprs_of_dashboard() if source == "dashboard" else [rule["expr"] for rule in rules()]
    named = {name for expr in exprs for name in METRIC.findall(expr)}
    assert named and named <= exported(), named - exported()


def test_prometheus_scrapes_every_job_the_down_alert_watches_and_loads_the_rules() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert all((MONITORING / path).exists() for path in config["rule_files"])
    (down,) = [rule for rule in rules() if rule["alert"] == "FathomServiceDown"]
    watched = re.compile(re.search(r'job=~"([^"]+)"', down["expr"]).group(1))
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert {"fathom-api", "fathom-reports", "fathom-projector", "fathom-delivery"} <= set(jobs)
    assert all(watched.fullmatch(job) for job in jobs)
