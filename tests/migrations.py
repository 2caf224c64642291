"""Running the migrations backwards and forwards in a test (`django_db(transaction=True)`)."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(*targets):
    """Migrate to `targets` and return the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def latest():
    """Every app's last migration: one of another app that depends on the migration taken
    back is taken back with it, and must come back too."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
