"""The FastAPI service: starts, signals and queries return workflows; reads the read model."""
