# The k2d image for users with a registry: build the static binary, then ship it alone.
# Without a registry (offline devices, CI), scripts/image.sh makes the same image from a local
# build with `docker import`. How to run it: README.md, "Running as a container".
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Static glibc binary for the builder's own target, named explicitly so that build scripts and
# proc-macros stay dynamic.
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$target" \
 && cp "target/$target/release/k2d" /k2d

# Nothing but the binary: k2d needs no CA roots (the engine pulls images) and no name service.
FROM scratch
COPY --from=build /k2d /k2d
# k2d never shows the container it runs in as a pod.
LABEL io.k2d.self=true
ENV K2D_DATA_DIR=/var/lib/k2d
EXPOSE 6443
ENTRYPOINT ["/k2d"]
CMD ["serve"]
