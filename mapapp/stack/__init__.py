"""The whole topology on one machine (issue 14): PostgreSQL primary and streaming replica, PgBouncer, app
processes, a worker, moto as S3 and nginx, each a child process on loopback, all in one folder."""
