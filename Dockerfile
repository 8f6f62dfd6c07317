# The longhorn-uninstall-guard image: the webhook server, the init container it injects
# (which runs this same binary at the same path), and longhorn-uninstall-supervisor, which
# that init container copies into the uninstall pod (guard/uninstall_wrapper.hpp).
#
#   docker build -t ghcr.io/longhorn-uninstall-guard/longhorn-uninstall-guard:v0.1.0 .
#
# No build argument is needed. VERSION (the OCI version label) defaults to the project's
# version, project(VERSION) in CMakeLists.txt; the build stage compares it with what the
# built binary reports, so an explicit --build-arg VERSION that disagrees with the sources
# is refused, and so is this file's default if a release forgets to move it (the test
# builds.dockerfile_version catches that before any image is built). The tag is what serve's
# default --init-image names (LUG_IMAGE in CMakeLists.txt, plus :v<version>).
# scripts/image-smoke-test.sh builds and checks this image with podman, where there is no
# Docker engine; its header says what it checks.

# project(VERSION) in CMakeLists.txt. Declared before the first FROM so that both stages
# take this one default; the build stage checks it against the binary.
ARG VERSION=0.1.0

FROM debian:bookworm AS build

# The same Debian packages as a developer machine (the "build" group only), installed before
# the sources are copied so that this layer survives source changes.
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
RUN /src/scripts/install-deps.sh build

# The cache mount below keeps ccache's objects between builds without putting them in a layer.
# Without the sloppiness ccache refuses every file: they all use the precompiled header.
ENV CCACHE_DIR=/var/cache/ccache CCACHE_SLOPPINESS=pch_defines,time_macros
WORKDIR /src
COPY . .

ARG VERSION
# Tests are CI's job, not the image's. The release preset leaves warnings as warnings (only
# the dev, asan and fuzz presets make them errors): optimised GCC 12 builds report false
# positives inside Boost.Asio and libstdc++ headers. The build tree goes in the same step:
# only /out is used, and committing its gigabyte of objects takes minutes.
RUN --mount=type=cache,target=/var/cache/ccache \
    cmake --preset release -DLUG_BUILD_TESTS=OFF \
 && cmake --build --preset release \
 && cmake --install build/release --strip --prefix /out \
 && rm -rf build \
 && if readelf -l -d /out/bin/longhorn-uninstall-supervisor | grep -E 'INTERP|NEEDED'; then \
      echo "longhorn-uninstall-supervisor must be statically linked: it runs in the longhorn-manager image" >&2; \
      exit 1; \
    fi \
 && reported="$(/out/bin/longhorn-uninstall-guard --version)" \
 && if [ "$reported" != "longhorn-uninstall-guard ${VERSION}" ]; then \
      echo "VERSION='${VERSION}' (--build-arg, or the Dockerfile's default) is not the project's version: the binary built from these sources says '$reported'. Build without --build-arg VERSION, or fix ARG VERSION in the Dockerfile to match project(VERSION) in CMakeLists.txt." >&2; \
      exit 1; \
    fi

FROM debian:bookworm-slim

# Only the shared libraries the binary links (ldd on the release build; libstdc++6, libgcc-s1
# and libc6 are already in the base). No ca-certificates: the API server's CA always comes
# from the service account's ca.crt or the kubeconfig, never from the system store.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libprometheus-cpp-core1.0 libsimdjson14 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# The path the injected init container's command names (guard/init_container.hpp).
COPY --from=build /out/bin/longhorn-uninstall-guard /usr/local/bin/longhorn-uninstall-guard
# Beside it, the path `wait --install-supervisor` copies from (guard/uninstall_wrapper.hpp).
COPY --from=build /out/bin/longhorn-uninstall-supervisor /usr/local/bin/longhorn-uninstall-supervisor
# A library added to the build but not to the list above fails here, not in a cluster.
RUN if ldd /usr/local/bin/longhorn-uninstall-guard | grep 'not found'; then \
      echo "add the package of each missing library to the apt-get install above" >&2; exit 1; \
    fi

ARG VERSION
ARG REVISION=unknown
LABEL org.opencontainers.image.title="longhorn-uninstall-guard" \
      org.opencontainers.image.description="Admission webhook that makes uninstalling Longhorn safe" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# Numeric, so that runAsNonRoot can verify it without an /etc/passwd entry; the same uid and
# gid as the injected init container's securityContext (guard/init_container.hpp).
USER 65532:65532
# serve's default ports: --listen (the webhook, TLS), --health-probe-listen, --metrics-listen.
EXPOSE 8443 8081 8080
ENTRYPOINT ["/usr/local/bin/longhorn-uninstall-guard"]
