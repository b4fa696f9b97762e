"""ContentHub's SQL database: engines, our tables, accounts and generated content. No Dagster."""
