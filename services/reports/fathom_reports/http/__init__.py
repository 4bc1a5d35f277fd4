"""The reports service's HTTP routes: one module per resource, each a blueprint of thin handlers."""
