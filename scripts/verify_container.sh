#!/usr/bin/env bash
# Build the Docker image and time it offline: start → first answer of /text_to_image, with no network.
#
#   sudo bash scripts/verify_container.sh [assets/results/benchmarks/container.json]
#
# Needs a running Docker engine (Debian: apt-get install docker.io; then `dockerd &` where there is no
# systemd). Where Docker Hub cannot be reached, `python:3.11-slim` cannot be pulled; the script then
# makes a stand-in base image from Debian's own archive: a debootstrap'd bookworm (Python 3.11.2, as in
# the slim image's Debian) with a venv at /usr/local, so `python` and `pip` sit where the official
# image has them, and the host's CA bundle (for a TLS-intercepting proxy in front of PyPI). The build
# then uses the repository's Dockerfile with only its FROM line replaced. It builds from `git archive
# HEAD` (committed files only) and deletes nothing it did not make.
set -euo pipefail
out=${1:-assets/results/benchmarks/container.json}
repo=$(git rev-parse --show-toplevel)
base=python:3.11-slim
from=$base
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull "$base" >/tmp/lookimagine-pull.log 2>&1; then
    echo "cannot pull $base: $(tail -1 /tmp/lookimagine-pull.log)" >&2
    from=lookimagine-base:bookworm-debootstrap
    if ! docker image inspect "$from" >/dev/null 2>&1; then
        rootfs=$(mktemp -d /tmp/lookimagine-rootfs.XXXXXX)
        debootstrap --variant=minbase --include=python3.11,python3-venv,python3-pip,ca-certificates,libfribidi0 \
            bookworm "$rootfs" http://deb.debian.org/debian
        chroot "$rootfs" /usr/bin/python3.11 -m venv /usr/local
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs"/etc/ssl/certs/ca-certificates.crt
        tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
            -c 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["python3"]' - "$from"
        rm -rf "$rootfs"
    fi
fi

context=$(mktemp -d /tmp/lookimagine-context.XXXXXX)
git -C "$repo" archive HEAD | tar -x -C "$context"
sed "s#^FROM python:3.11-slim#FROM $from#" "$context/Dockerfile" > "$context/Dockerfile.verify"
build_start=$(date +%s)
DOCKER_BUILDKIT=0 docker build -q -f "$context/Dockerfile.verify" -t lookimagine:verify "$context"
build_s=$(( $(date +%s) - build_start ))
rm -rf "$context"
size=$(docker image inspect lookimagine:verify --format '{{.Size}}')

# The client runs inside the container (there is no network to reach it from outside).
probe=$(mktemp /tmp/lookimagine-probe.XXXXXX.py)
cat > "$probe" <<'EOF'
import time
from gradio_client import Client
deadline = time.time() + 300
while True:
    try:
        answer = Client("http://127.0.0.1:7860/", verbose=False).predict("man cook: dark skin tone",
                                                                         api_name="/text_to_image")
        print("answered", "gxn" in answer)
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.3)
EOF
chmod 644 "$probe"
name=lookimagine-verify-$$
start=$(date +%s.%N)
docker run -d --name "$name" --network none -v "$probe:/tmp/probe.py:ro" lookimagine:verify >/dev/null
answer=$(docker exec "$name" python /tmp/probe.py)
end=$(date +%s.%N)
interfaces=$(docker exec "$name" python -c "import socket; print(' '.join(n for _, n in socket.if_nameindex()))")
docker rm -f "$name" >/dev/null
rm -f "$probe"
first_answer_s=$(python3 -c "print(round($end - $start, 1))")
mkdir -p "$(dirname "$out")"
cat > "$out" <<EOF
{
 "command": "sudo bash scripts/verify_container.sh $out",
 "engine": "$(docker version --format 'docker {{.Server.Version}}')",
 "base_image": "$from",
 "build_s": $build_s,
 "image_bytes": $size,
 "image_gb": $(python3 -c "print(round($size / 1e9, 2))"),
 "network": "none (interfaces: $interfaces)",
 "start_to_first_answer_s": $first_answer_s,
 "answer": "$answer",
 "cpu_count": $(nproc)
}
EOF
cat "$out"
