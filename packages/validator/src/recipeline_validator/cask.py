"""``app_bundle`` (Homebrew Cask recipes) in the native backend: macOS applications.

On Linux there is nothing to install: the runner's toolchain is never found, so every cask
recipe is ``skipped`` there with that reason, never ``pass``. On macOS the install (download the
cask's archive, copy the ``.app`` bundle, link its binaries) is not implemented yet: there is no
macOS machine here to test it on, so it is an environment gap too, said as such.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, ClassVar

from .outcome import SandboxOutcome
from .runner import Installed, PlannedStep, StepContext, Toolchain

if TYPE_CHECKING:
    from .native import NativeOptions

LINUX_REASON = "app_bundle installs a macOS application; validated on macOS only"
MACOS_REASON = "app_bundle is not implemented on macOS yet (native backend)"


def app_bundle_gap(system: str) -> str:
    """Why this host cannot run ``app_bundle``, by ``platform.system()``."""
    return MACOS_REASON if system == "Darwin" else LINUX_REASON


class AppBundleRunner:
    """``app_bundle``: never runs natively yet (see the module docstring)."""

    action: ClassVar[str] = "app_bundle"
    needs: ClassVar[tuple[str, ...]] = ()

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        return app_bundle_gap(platform.system())

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        return self._gap()

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        return self._gap()

    @staticmethod
    def _gap() -> SandboxOutcome:
        # unreachable through run_native (find_toolchain never succeeds); a skip, never a pass
        return SandboxOutcome(False, app_bundle_gap(platform.system()), skipped=True)
