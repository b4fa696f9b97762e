"""The generation worker: consumes the BullMQ queue and runs each job through the pipeline."""
