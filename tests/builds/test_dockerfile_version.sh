#!/usr/bin/env bash
# The Dockerfile's default VERSION must be project(VERSION): it becomes the image's
# org.opencontainers.image.version label when the image is built with no --build-arg, and
# the build stage refuses the build when the binary reports another version. This test
# says so in seconds, before anyone spends twenty minutes on an image build.
#
#   test_dockerfile_version.sh PATH/TO/Dockerfile PROJECT_VERSION
set -u
dockerfile="${1:-}"
project_version="${2:-}"
if [ ! -f "$dockerfile" ] || [ -z "$project_version" ]; then
  echo "usage: $0 PATH/TO/Dockerfile PROJECT_VERSION" >&2
  exit 2
fi
passed=0
failed=0
# Only ARGs before the first FROM are global defaults; the stages' own `ARG VERSION` lines
# must not set another value.
global="$(awk '/^FROM /{exit} /^ARG VERSION=/{sub(/^ARG VERSION=/, ""); print}' "$dockerfile")"
staged="$(awk 'f && /^ARG VERSION/{print} /^FROM /{f=1}' "$dockerfile" | sort -u)"
if [ "$global" = "$project_version" ]; then
  echo "ok   - the Dockerfile's default VERSION is project(VERSION) $project_version"
  passed=$((passed + 1))
else
  echo "FAIL - the Dockerfile's default VERSION is project(VERSION): ARG VERSION=${global:-<none before the first FROM>} in $dockerfile, project(VERSION) is $project_version; change the ARG"
  failed=$((failed + 1))
fi
if [ "$staged" = "ARG VERSION" ]; then
  echo "ok   - each stage takes that default (a bare ARG VERSION)"
  passed=$((passed + 1))
else
  echo "FAIL - each stage takes that default: expected only bare 'ARG VERSION' lines after FROM, found: ${staged:-none}"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
