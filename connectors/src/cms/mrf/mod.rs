//! CMS hospital price-transparency machine-readable files (v2.x, v3.0; CSV tall, CSV wide, JSON). (being written)
