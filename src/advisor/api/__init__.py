"""HTTP edge of the advisor: ``create_app`` builds the FastAPI application."""
