"""Exceptions of recipeline-generator.

GeneratorError            base of every error this package raises
└── ConfigurationError    an option or setting cannot be used (rate limit, index URL, registry)

A package that cannot be generated is not an exception: builders return a ``Failure`` record.
Errors of the data files (``recipeline_schema.SchemaError``: a bad plan, curated file or
endpoint) pass through unchanged; the CLI maps both families to exit code 2.
"""

from __future__ import annotations


class GeneratorError(Exception):
    """Base of every error raised by recipeline-generator."""


class ConfigurationError(GeneratorError, ValueError):
    """An option or setting of the generator cannot be used; the message says which and why."""
