/* Country lookup (binary search over the generated table) and haversine
 * distance. */
#include "risk/geo.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

const struct ag_geo_country *ag_geo_country_find(const char *code)
{
    if (!code || !code[0] || !code[1] || code[2])
        return NULL;
    char c[3] = {(char)toupper((unsigned char)code[0]), (char)toupper((unsigned char)code[1]), 0};
    int lo = 0, hi = ag_geo_countries_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int r = strcmp(c, ag_geo_countries[mid].code);
        if (r == 0)
            return &ag_geo_countries[mid];
        if (r < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

double ag_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}
