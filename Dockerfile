# The `homeroom` image: one binary, linked only to glibc and libgcc, that runs
# every component (`homeroom serve <identity|roster|messaging|gateway>`,
# `homeroom migrate <service>`, …) as the manifests under k8s/ run it.
#
#   docker buildx build --platform linux/amd64 \
#     --build-arg VERSION=1.2.3 --build-arg REVISION="$(git rev-parse HEAD)" \
#     -t ghcr.io/<org>/homeroom:1.2.3 --push .
#
# The build needs nothing but the Rust toolchain (plus perl and make for
# OpenSSL's build): SQLite and libpq, and the OpenSSL libpq's TLS uses, are
# compiled from bundled sources (the toolchain image's gcc), the .proto files
# by protox; every other TLS connection is rustls. Dependencies are compiled in their own layer
# (cargo-chef), so a change to the project's sources rebuilds only its crates.

# Builder and runtime must be the same Debian release (the binary links the
# builder's glibc): bookworm with cc-debian12, or trixie with cc-debian13
# (--build-arg RUST_IMAGE=rust:1.95-slim-trixie
#  --build-arg RUNTIME_IMAGE=gcr.io/distroless/cc-debian13:nonroot).
# Pin both by digest (…@sha256:…) for reproducible builds.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# --- the toolchain with cargo-chef ------------------------------------------
FROM ${RUST_IMAGE} AS chef
# OpenSSL's build (openssl-src, for libpq's TLS) runs perl's Configure and make.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends perl make \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /build

# --- the dependency recipe: manifests and Cargo.lock only -------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- dependencies (cached while recipe.json is unchanged), then the binary --
FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --locked --bin homeroom --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin homeroom \
    && install -D -m 0755 target/release/homeroom /out/homeroom

# --- runtime: glibc, libgcc, CA certificates, tzdata; no shell --------------
# The nonroot variant runs as 65532:65532, which the manifests also set
# (runAsUser/runAsGroup).
FROM ${RUNTIME_IMAGE}

ARG RUNTIME_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="homeroom" \
      org.opencontainers.image.description="Homeroom: K-12 school-to-family messaging back end (identity, roster, messaging, gateway)" \
      org.opencontainers.image.source="https://github.com/homeroom/homeroom" \
      org.opencontainers.image.url="https://github.com/homeroom/homeroom" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Homeroom" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"

COPY --from=builder /out/homeroom /usr/local/bin/homeroom

# Designed for a read-only root filesystem: /tmp is the only path written
# (the pods mount an emptyDir there). It is also the working directory, so
# the laptop defaults that are relative paths (data/ for `homeroom run`,
# data/outbox) land on it rather than failing, e.g.
#   docker run --rm --read-only --tmpfs /tmp -p 8080:8080 \
#     -e HOMEROOM_GATEWAY_ADDR=0.0.0.0:8080 <image>
WORKDIR /tmp
USER 65532:65532

# No listening port is fixed here: each component's is set by
# HOMEROOM_LISTEN_ADDR (50051-50053, 8080) and metrics by
# HOMEROOM_METRICS_ADDR (9090).
ENTRYPOINT ["/usr/local/bin/homeroom"]
# The whole suite in one process on SQLite under /tmp/data (a demo); the
# Kubernetes manifests always pass their own args (serve <component>).
CMD ["run"]
