"""The buyer's markets: records (organisation, market, generation, access token, journal), pages and forms."""
