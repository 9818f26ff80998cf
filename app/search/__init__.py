"""Full-text search over reports, recommendations, responses and updates."""
