#!/bin/sh
# Creates (or upgrades) Temporal's two schemas on PostgreSQL with Temporal's own schema tool, the way
# Temporal's compose files do (temporalio/samples-server, compose/scripts/setup-postgres.sh). Safe to run
# on every `up`: an existing database is kept and only newer schema versions are applied.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}"
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$PORT" "$@"; }
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  tool --db "$db" create 2>/dev/null || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0 2>/dev/null || echo "schema of $db already set up"
  tool --db "$db" update-schema -d "$SCHEMA/$dir/versioned"
done
echo 'PostgreSQL schemas ready'
