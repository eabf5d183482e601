# Look, Imagine and Match — the demo as a container (Hugging Face Docker Space conventions).
#
#   docker build -t lookimagine .
#   docker run -p 7860:7860 lookimagine                 # CPU
#   docker run --gpus all -p 7860:7860 lookimagine      # NVIDIA GPU: the same image
#
# torch==2.14.1 from PyPI is the CUDA build (its CUDA libraries come as nvidia-* wheels), so
# this one image runs on CPU and, with `--gpus all` (NVIDIA driver + container toolkit on the
# host), on the GPU; the app picks CUDA when it sees one. That wheel is why the image is large
# (about 6.5–7 GB). The pocket tier (the default) is self-contained: its checkpoints are copied
# with the code, and the emoji gallery (OpenMoji rendered from its PyPI wheel; the Twemoji and
# Fluent test renders shipped in assets/galleries/emoji) is embedded at build time, so the
# container starts and answers without a network. No npm is needed or installed. The full tier may still download weights when asked
# to, so HF_HUB_OFFLINE is deliberately not set here.
FROM python:3.11-slim

# libfribidi0: Pillow's wheels bundle libraqm but load FriBiDi from the system at run time.
# Without it Pillow falls back to basic text layout, emoji sequences (ZWJ, skin tones, flags)
# no longer shape to one glyph, and the rendered emoji gallery would not match the checkpoints.
# Not version-pinned: the package version follows the base image's Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfribidi0 \
    && rm -rf /var/lib/apt/lists/*

# Hugging Face Spaces run containers as uid 1000.
RUN useradd -m -u 1000 user

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, in their own layer: editing the code does not reinstall torch.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# The Spaces convention, by name; the user is created above with uid 1000.
# hadolint ignore=DL3066
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    LOOKIMAGINE_CACHE=/home/user/.cache/lookimagine \
    HF_HOME=/home/user/.cache/huggingface \
    GRADIO_TEMP_DIR=/home/user/.cache/gradio \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860
WORKDIR /home/user/app

# The code, with the shipped pocket checkpoints in assets/ (see .dockerignore for what stays out).
COPY --chown=user . /home/user/app

# Bake the caches in, so the first start needs neither a network nor a render:
# 1. Pillow must have raqm layout (see libfribidi0 above), or the emoji set comes out different.
# 2. Render the OpenMoji set once into $LOOKIMAGINE_CACHE (prints its split sizes).
# 3. Load every shipped pocket pipeline, which embeds its gallery with both models and caches the
#    embeddings under $LOOKIMAGINE_CACHE/galleries. The emoji gallery's Twemoji and Fluent drawings
#    are read from assets/galleries/emoji: the pipeline never runs npm. This step fails the build on purpose when
#    assets/checkpoints/emoji is missing: the image is meant to ship with its checkpoints
#    (train them first, see the README).
RUN python -c "from PIL import features; assert features.check('raqm'), 'Pillow has no raqm layout: libfribidi0 missing'" \
    && python -m lookimagine.data stats --dataset emoji --timing-n 0 \
    && { test -d assets/checkpoints/emoji/gxn || { echo "assets/checkpoints/emoji is missing: train and export the pocket checkpoints first" >&2; exit 1; }; } \
    && python -c "import pathlib; from lookimagine.pipeline import LookImagineMatch; [LookImagineMatch.from_pretrained(str(d), device='cpu', progress=False) for d in sorted(pathlib.Path('assets/checkpoints').iterdir()) if (d / 'gxn').is_dir()]"

EXPOSE 7860

HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GRADIO_SERVER_PORT', '7860') + '/', timeout=8)"]

CMD ["python", "app.py"]
