"""recipeline-validator: schema, rules and safety checks, then a sandboxed install and verify.

Public surface (other stages meet it only through files; these are for tasks.py and tests):
- ``validate_batch`` (batch dir -> ``results/<environment>.json``), ``validate_recipe``,
  ``validate_all``, ``RecipeInput``, ``RunSettings``;
- ``check_recipe`` / ``RecipeCheck`` (schema + rules + safety, no install), ``analyze`` (safety
  verdict of a parsed recipe), ``AUTO_MERGE_ACTIONS``;
- ``detect_environment`` / ``HostFacts`` (pure), ``detect_host_environment``,
  ``resolve_environment``;
- the native backend's options: ``NativeOptions``, ``PipSource``, ``NpmTools`` /
  ``find_npm_tools``, ``Limits``, ``Isolation``, ``probe_isolation``; the tsuku backend's
  ``TsukuOptions``;
- tsuku's rules: ``KNOWN_ACTIONS``, ``suggest_action``;
- ``ValidatorError`` and its subclasses.
"""

from __future__ import annotations

from recipeline_schema import installed_version

from .checks import RecipeCheck as RecipeCheck
from .checks import check_recipe as check_recipe
from .environment import HostFacts as HostFacts
from .environment import detect_environment as detect_environment
from .environment import detect_host_environment as detect_host_environment
from .environment import host_facts as host_facts
from .environment import parse_os_release as parse_os_release
from .environment import resolve_environment as resolve_environment
from .errors import BatchInputError as BatchInputError
from .errors import EnvironmentDetectionError as EnvironmentDetectionError
from .errors import RecipeFileError as RecipeFileError
from .errors import ValidatorError as ValidatorError
from .native import NATIVE_ACTIONS as NATIVE_ACTIONS
from .native import NativeOptions as NativeOptions
from .npm import NpmTools as NpmTools
from .npm import find_npm_tools as find_npm_tools
from .pipx import PipSource as PipSource
from .plan import native_plan as native_plan
from .plan import step_applies as step_applies
from .rules import KNOWN_ACTIONS as KNOWN_ACTIONS
from .rules import suggest_action as suggest_action
from .safety import AUTO_MERGE_ACTIONS as AUTO_MERGE_ACTIONS
from .safety import analyze as analyze
from .sandbox import Isolation as Isolation
from .sandbox import Limits as Limits
from .sandbox import probe_isolation as probe_isolation
from .tsuku import TsukuOptions as TsukuOptions
from .validation import RecipeInput as RecipeInput
from .validation import RunSettings as RunSettings
from .validation import linux_gate as linux_gate
from .validation import validate_all as validate_all
from .validation import validate_batch as validate_batch
from .validation import validate_recipe as validate_recipe

__version__ = installed_version("recipeline-validator")
