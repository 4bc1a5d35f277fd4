"""Fathom reports service: read APIs over the projector's read models."""

from fathom_reports.app import create_app

__all__ = ["create_app"]
