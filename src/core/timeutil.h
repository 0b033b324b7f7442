/* Time: milliseconds since the Unix epoch (int64) everywhere inside;
 * RFC 3339 / ISO 8601 UTC text at the edges. */
#ifndef AG_CORE_TIMEUTIL_H
#define AG_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t ag_time_now_ms(void);
/* Monotonic clock in nanoseconds, for latency measurement. */
int64_t ag_time_mono_ns(void);

/* Parse an RFC 3339 timestamp ("2026-11-21T10:00:00Z", "...00.123+02:00",
 * also a space for T) into ms since the epoch. Returns 0, or AG_EINVAL if the
 * text is not a valid timestamp (month 13, Feb 30, junk after it, ...). */
int ag_time_parse(const char *s, int64_t *out_ms);

/* Format <ms> as "2026-11-21T10:00:00.123Z" into <buf> (>= 32 bytes). */
void ag_time_format_ms(int64_t ms, char *buf, size_t len);
/* Format <ms> as "2026-11-21T10:00:00Z" (whole seconds). */
void ag_time_format(int64_t ms, char *buf, size_t len);

#endif
