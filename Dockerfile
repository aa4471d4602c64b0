# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 gettext postgresql-client nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/base.txt requirements/
RUN pip install -r requirements/base.txt
COPY package*.json ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund; fi
COPY . .
RUN python manage.py compilemessages --ignore node_modules -v0 \
 && DJANGO_SETTINGS_MODULE=command_center.settings.prod \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    python manage.py collectstatic --noinput -v0

EXPOSE 8000
# HTTP: Django's WSGI handler under gunicorn's threaded workers. docker-compose.yml also runs the websockets
# (Channels under uvicorn) from this image and puts both behind one origin.
CMD ["sh", "-c", "gunicorn --bind 0.0.0.0:8000 --worker-class gthread --workers ${WEB_CONCURRENCY:-2} --threads ${HTTP_THREADS:-16} command_center.wsgi:application"]
