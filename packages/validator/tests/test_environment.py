"""Environment detection from os-release texts, the musl loader and platform facts."""

from __future__ import annotations

import pytest

from recipeline_schema import ENVIRONMENTS
from recipeline_validator import (
    EnvironmentDetectionError,
    HostFacts,
    detect_environment,
    detect_host_environment,
    parse_os_release,
)

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n'
MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n'
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
ALMA = 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
AMAZON = 'NAME="Amazon Linux"\nID="amzn"\nID_LIKE="centos rhel fedora"\n'
CENTOS = 'NAME="CentOS Stream"\nID="centos"\nID_LIKE="rhel fedora"\n'
ARCH = 'NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n'
MANJARO = 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n'
TUMBLEWEED = 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n'
LEAP = 'NAME="openSUSE Leap"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\n'
SLES = 'NAME="SLES"\nID="sles"\nID_LIKE="suse"\n'
ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\n'
VOID = 'NAME="Void"\nID="void"\n'
GENTOO = 'NAME=Gentoo\nID=gentoo\n# a comment\n\nPRETTY_NAME="Gentoo Linux"\n'


@pytest.mark.parametrize(
    ("os_release", "machine", "musl", "expected"),
    [
        (DEBIAN, "x86_64", False, "linux-debian-glibc-x86_64"),
        (DEBIAN, "aarch64", False, "linux-debian-glibc-arm64"),
        (DEBIAN, "x86_64", True, "linux-debian-glibc-x86_64"),  # Debian's musl package: still glibc
        (UBUNTU, "x86_64", False, "linux-debian-glibc-x86_64"),
        (MINT, "amd64", False, "linux-debian-glibc-x86_64"),
        (FEDORA, "x86_64", False, "linux-rhel-glibc-x86_64"),
        (ROCKY, "aarch64", False, "linux-rhel-glibc-arm64"),
        (ALMA, "x86_64", False, "linux-rhel-glibc-x86_64"),
        (AMAZON, "x86_64", False, "linux-rhel-glibc-x86_64"),
        (CENTOS, "x86_64", False, "linux-rhel-glibc-x86_64"),
        (ARCH, "x86_64", False, "linux-arch-glibc-x86_64"),
        (MANJARO, "x86_64", False, "linux-arch-glibc-x86_64"),
        (TUMBLEWEED, "x86_64", False, "linux-suse-glibc-x86_64"),
        (LEAP, "aarch64", False, "linux-suse-glibc-arm64"),
        (SLES, "x86_64", False, "linux-suse-glibc-x86_64"),
        (ALPINE, "x86_64", True, "linux-alpine-musl-x86_64"),
        (ALPINE, "aarch64", False, "linux-alpine-musl-arm64"),
        (VOID, "x86_64", True, "linux-alpine-musl-x86_64"),  # unknown family with a musl loader
    ],
)
def test_linux_hosts(os_release: str, machine: str, musl: bool, expected: str) -> None:
    assert detect_environment(HostFacts("Linux", machine, os_release, musl)) == expected


@pytest.mark.parametrize(("machine", "expected"), [("arm64", "darwin-arm64"), ("x86_64", "darwin-x86_64")])
def test_macos_hosts(machine: str, expected: str) -> None:
    assert detect_environment(HostFacts("Darwin", machine)) == expected


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        (HostFacts("Linux", "x86_64", GENTOO), ["Gentoo Linux", "--environment"]),
        (HostFacts("Linux", "x86_64", ""), ["unknown Linux distribution"]),
        (HostFacts("Linux", "aarch64", ARCH), ["linux-arch-glibc-arm64", "not one of"]),
        (HostFacts("Linux", "riscv64", DEBIAN), ["riscv64"]),
        (HostFacts("Windows", "AMD64"), ["Windows"]),
    ],
)
def test_hosts_outside_the_eleven_are_clear_errors(facts: HostFacts, words: list[str]) -> None:
    with pytest.raises(EnvironmentDetectionError) as err:
        detect_environment(facts)
    for word in words:
        assert word in str(err.value)


def test_os_release_parsing_undoes_shell_quoting() -> None:
    parsed = parse_os_release(ROCKY + "BROKEN='unbalanced\nNOEQUALS\n")
    assert parsed["ID"] == "rocky"
    assert parsed["ID_LIKE"] == "rhel centos fedora"
    assert parsed["BROKEN"] == "unbalanced"
    assert "NOEQUALS" not in parsed


def test_this_host_is_detected_or_refused_with_a_reason() -> None:
    try:
        env = detect_host_environment()
    except EnvironmentDetectionError as exc:
        assert str(exc)
    else:
        assert env in ENVIRONMENTS
