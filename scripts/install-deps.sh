#!/usr/bin/env bash
# Installs the Debian packages mentorflow needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

PACKAGES=(
  cmake make g++ clang libclang-rt-14-dev dpkg-dev
  libboost-dev libyaml-cpp-dev libcli11-dev libhowardhinnant-date-dev tzdata
  libsoci-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  # a region behind a connection pool: tests run through it in transaction mode
  pgbouncer
  libspdlog-dev libkainjow-mustache-dev nlohmann-json3-dev libzip-dev libsodium-dev libxml2-dev
  libcurl4-openssl-dev libcsv-dev
  # serve: the HTTP server, and the dictionary that refuses common passwords
  libcpp-httplib-dev libcrack2-dev cracklib-runtime
  # the region's roll-up as a spreadsheet
  libxlsxwriter-dev
  # serve: the workflow diagrams on the pages (dot); the browser the page tests drive
  graphviz chromium
  libgtest-dev libgmock-dev libbenchmark-dev
  # test oracles and real peers: an iCalendar parser, an SMTP server, and
  # LibreOffice (doc render --format pdf) with pdftotext to read its PDFs back
  python3 python3-icalendar python3-aiosmtpd unzip
  # a spreadsheet reader, to read the roll-up's XLSX back
  python3-openpyxl
  libreoffice-writer-nogui poppler-utils fonts-liberation
  # serve: a load generator for bench/serve
  wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "mentorflow needs these Debian packages; run as root:" >&2
    echo "  apt-get update && $line" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm for the test oracles of tests/web (Node 18 or later); Debian's when none is installed.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "mentorflow's tests need npm (Node 18 or later); run as root: apt-get install -y nodejs npm" >&2
    exit 1
  fi
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
