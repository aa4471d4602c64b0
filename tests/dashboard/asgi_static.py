"""The project's ASGI application with static files served, for the server the browser tests start."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from command_center.asgi import application as project_application

application = ASGIStaticFilesHandler(project_application)
