/* Decision facts as a compact binary snapshot: the rules' input values of
 * one event and the action before the rules, stored with the event so that
 * a backtest can run any rule set over past events exactly as they were
 * seen. Layout (little-endian): u8 version=1, u8 base action, then per
 * present field: u8 field id, u8 type, payload (bool u8 | number f64 |
 * string u16 len + bytes | list u8 n + n x (u16 len + bytes with NUL)). */
#ifndef AG_PIPELINE_FACTS_H
#define AG_PIPELINE_FACTS_H

#include "core/decision.h"
#include "core/util.h"
#include "rules/rules.h"

/* Append the snapshot of values[0..n-1] to <out>; 0 or AG_ENOMEM. */
int ag_facts_encode(const struct ag_rules_value *values, int n, enum ag_action base,
                    struct ag_buf *out);
/* Decode into values[0..n-1] (strings point into <blob>, list items into
 * scratch[0..nscratch-1]); 0 or AG_EINVAL for a malformed snapshot. */
int ag_facts_decode(const void *blob, size_t len, struct ag_rules_value *values, int n,
                    enum ag_action *base, const char **scratch, int nscratch);

#endif
