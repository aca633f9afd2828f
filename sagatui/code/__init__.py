"""The user's own code as saga steps: services whose operations are async functions (`service.Service`),
sagas built in Python (`builder`) into the same definitions a pack holds, and an `App` that puts them
together with simulated services, scenarios, invariants and a lifespan. A pack never runs code; a module
the user points sagatui at (`sagatui run shop.app:app`) is code by the user's choice."""
