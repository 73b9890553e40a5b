"""Exceptions of recipeline-validator.

A recipe that fails validation is *data* (a ``RecipeResult`` with a ``Failure``), never an
exception; these are for inputs the validator cannot work with at all.

ValidatorError                  base of every error this package raises
├── EnvironmentDetectionError   the host is none of the eleven environments, or not the one asked for
├── BatchInputError             the batch directory (generation.json, a recipe path) is unusable
└── RecipeFileError             a recipe file given on the command line cannot be read
"""

from __future__ import annotations


class ValidatorError(Exception):
    """Base of every error raised by recipeline-validator."""


class EnvironmentDetectionError(ValidatorError):
    """The host cannot be mapped to one of ``recipeline_schema.ENVIRONMENTS``."""


class BatchInputError(ValidatorError):
    """A file of the batch directory is missing or unusable (names the file and what was expected)."""


class RecipeFileError(ValidatorError):
    """A recipe file named by the operator cannot be read."""
