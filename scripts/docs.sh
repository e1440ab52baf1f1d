#!/usr/bin/env bash
# Rewrites every sample output quoted in README.md and docs/*.md (the
# `<!-- sample: clearsim … -->` blocks) with what the command prints now.
# tests/docs.rs fails when one is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_DOCS=1 cargo test --profile ci --test docs -- --test-threads=1
git --no-pager diff --stat -- README.md docs/
