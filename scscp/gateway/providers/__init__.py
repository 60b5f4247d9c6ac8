"""Where workers come from: local processes now; containers in later providers."""
