/* Histogram observation and Prometheus rendering. */
#include "core/metrics.h"

const double ag_metrics_latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.5,    2.5};
const int ag_metrics_latency_nbounds = 12;

void ag_histogram_observe_ns(struct ag_histogram *h, int64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < h->nbounds && s > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns > 0 ? (uint64_t)ns : 0, memory_order_relaxed);
}

void ag_metrics_render_histogram(struct ag_buf *out, const char *name,
                                 const struct ag_histogram *h, const char *labels)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->nbounds)
            ag_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i],
                          (unsigned long long)cum);
        else
            ag_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                          (unsigned long long)cum);
    }
    const char *lb = labels[0] ? "{" : "", *rb = labels[0] ? "}" : "";
    ag_buf_printf(out, "%s_sum%s%s%s %.9f\n", name, lb, labels, rb,
                  (double)atomic_load(&h->sum_ns) / 1e9);
    ag_buf_printf(out, "%s_count%s%s%s %llu\n", name, lb, labels, rb,
                  (unsigned long long)atomic_load(&h->count));
}

double ag_histogram_quantile(const struct ag_histogram *h, double q)
{
    uint64_t total = atomic_load(&h->count);
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total), cum = 0;
    for (int i = 0; i <= h->nbounds; i++) {
        cum += atomic_load(&h->buckets[i]);
        if (cum > want)
            return i < h->nbounds ? h->bounds[i] : h->bounds[h->nbounds - 1];
    }
    return h->bounds[h->nbounds - 1];
}
