"""recipeline-seeder: popularity sources -> per-ecosystem priority queues (ARCHITECTURE §4).

Public surface:
- candidates and the pure merge: ``Candidate``, ``merge_candidates``, ``MergeReport`` (with
  ``Skipped``/``Rejected``), ``check_candidate``, ``name_problem``;
- sources: the ``Source`` protocol, ``SeedListSource``/``parse_seed_list``, ``harvest``;
- popularity APIs: ``popularity_source`` (one per ecosystem, see ``popular``), ``SourceSettings``,
  ``DEFAULT_SETTINGS``, ``load_settings``;
- disambiguation at seeding time: ``disambiguate`` (pure), ``curated_index``, ``elsewhere_index``;
- a run: ``seed`` -> ``SeedOutcome``; ``seeding_run``/``exit_code`` (pure);
- tsuku import: ``import_tsuku`` -> ``ImportOutcome`` (the pure conversion is
  ``recipeline_schema.tsuku.convert_tsuku``, the one home of tsuku's formats);
- errors: ``SeederError`` and its subclasses.
"""

from __future__ import annotations

from recipeline_schema import installed_version

from .candidates import DEFAULT_PRIORITY as DEFAULT_PRIORITY
from .candidates import Candidate as Candidate
from .candidates import MergeReport as MergeReport
from .candidates import Rejected as Rejected
from .candidates import Skipped as Skipped
from .config import DEFAULT_SETTINGS as DEFAULT_SETTINGS
from .config import SourceSettings as SourceSettings
from .config import load_settings as load_settings
from .disambiguate import Disambiguated as Disambiguated
from .disambiguate import curated_index as curated_index
from .disambiguate import disambiguate as disambiguate
from .disambiguate import elsewhere_index as elsewhere_index
from .errors import ConfigError as ConfigError
from .errors import QueueMismatchError as QueueMismatchError
from .errors import SeederError as SeederError
from .errors import SeedListError as SeedListError
from .errors import SourceError as SourceError
from .errors import TsukuImportError as TsukuImportError
from .importer import ImportOutcome as ImportOutcome
from .importer import import_tsuku as import_tsuku
from .merge import check_candidate as check_candidate
from .merge import merge_candidates as merge_candidates
from .merge import name_problem as name_problem
from .popular import Endpoints as Endpoints
from .popular import popularity_source as popularity_source
from .run import SeedOutcome as SeedOutcome
from .run import read_queue as read_queue
from .run import recipe_names as recipe_names
from .run import seed as seed
from .seedlist import SeedListSource as SeedListSource
from .seedlist import parse_seed_list as parse_seed_list
from .sources import Harvest as Harvest
from .sources import Source as Source
from .sources import SourceFailure as SourceFailure
from .sources import harvest as harvest
from .summary import exit_code as exit_code
from .summary import seeding_run as seeding_run

__version__ = installed_version("recipeline-seeder")
