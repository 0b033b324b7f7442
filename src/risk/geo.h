/* Country coordinates for impossible-travel checks. libloc resolves an IP
 * only to a country, so a login's location is its country's representative
 * point (geo_table.c, generated from tzdata by gen_geo.py). Travel inside
 * one country therefore measures as zero: see docs/RISK.md. */
#ifndef AG_RISK_GEO_H
#define AG_RISK_GEO_H

struct ag_geo_country {
    char code[3];
    double lat, lon; /* degrees */
    const char *name;
};

extern const struct ag_geo_country ag_geo_countries[];
extern const int ag_geo_countries_count;

/* The entry for an ISO 3166 alpha-2 code (case-insensitive), or NULL. */
const struct ag_geo_country *ag_geo_country_find(const char *code);

/* Great-circle distance in km between two points given in degrees. */
double ag_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
