"""Local registries for the tests: the artifacts each ecosystem publishes, built in memory, and
servers that answer as the ecosystems' APIs and download hosts do (loopback only).

- ``crates``: ``.crate`` files (gzipped tar, as ``cargo package`` writes them);
- ``gomodules``: Go module zips and their ``h1:`` hashes (go.sum lines);
- ``gems``: ``.gem`` files built with the real ``gem build``;
- ``cpan``: CPAN distribution tarballs with their ``META.json``;
- ``bottles``: Homebrew bottles (gzipped tar of ``<formula>/<version>/...``);
- ``servers``: one server per ecosystem answering both the generator's API requests and the
  validator's downloads with the same package data.

The validator's tests and the end-to-end tests import these from here (one copy).
"""
