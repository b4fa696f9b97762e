"""The BullMQ generation queue on Redis: connections, the producer. No Dagster."""
