"""The read API's marshmallow schemas: query arguments and answers, one module per view."""
