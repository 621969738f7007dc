#!/usr/bin/env bash
# Installs every Debian 12 package mxgate needs to build, test, fuzz and benchmark.
# Idempotent; safe to run repeatedly. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive

# Postfix asks debconf questions on install; answer them up front so the
# install never blocks. We only use its binaries (smtp-sink, smtp-source,
# and a private instance started by the tests), never the system service.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config
  libboost1.74-dev libboost-system1.74-dev libboost-program-options1.74-dev
  libssl-dev openssl
  libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin
  libspf2-dev libopendkim-dev libopendmarc-dev
  libunbound-dev libevent-dev
  libyaml-cpp-dev
  zlib1g-dev
  catch2
  publicsuffix
)
TEST_PKGS=(
  swaks libio-socket-ssl-perl libnet-ssleay-perl python3 python3-cryptography testssl.sh
  fail2ban
  postfix
  unbound nsd ldnsutils dnsutils
  eatmydata
  strace
  opendkim-tools python3-dkim
  clang libclang-rt-14-dev clang-16
  procps psmisc iproute2 time
)

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"

# The distribution's postfix/unbound/nsd services are not used by the tests
# (they start their own private instances on loopback); stop them if the
# package install started them so they do not hold port 25 or 53.
for svc in postfix unbound nsd fail2ban; do
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
