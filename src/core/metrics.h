/* Metrics in Prometheus text format: lock-free counters and histograms that
 * any module may declare statically and observe from any thread. Rendering
 * is done by the HTTP layer's /metrics handler. */
#ifndef AG_CORE_METRICS_H
#define AG_CORE_METRICS_H

#include "core/util.h"

#include <stdatomic.h>
#include <stdint.h>

#define AG_HIST_MAX_BUCKETS 16

/* Latency buckets in seconds, shared by every latency histogram. */
extern const double ag_metrics_latency_bounds[];
extern const int ag_metrics_latency_nbounds;

struct ag_histogram {
    const double *bounds; /* upper bounds, ascending; +Inf is implicit */
    int nbounds;
    _Atomic uint64_t buckets[AG_HIST_MAX_BUCKETS + 1];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns; /* sum of observations in nanoseconds */
};

#define AG_HISTOGRAM_LATENCY {.bounds = ag_metrics_latency_bounds, .nbounds = 12}

/* Observe a duration in nanoseconds. */
void ag_histogram_observe_ns(struct ag_histogram *h, int64_t ns);

/* Append the histogram's lines: name_bucket{labels,le="..."} ..., _sum, _count.
 * <labels> is "" or `route="x"` (no braces). */
void ag_metrics_render_histogram(struct ag_buf *out, const char *name,
                                 const struct ag_histogram *h, const char *labels);

/* A value of ns / 1e9 at <q> (0..1) estimated from the buckets (for bench
 * and logs; Prometheus does its own). */
double ag_histogram_quantile(const struct ag_histogram *h, double q);

#endif
