"""Shell of the hotline service: settings, wiring, adapters, web, persistence."""
