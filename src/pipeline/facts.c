/* Binary decision-fact snapshots (see facts.h). Strings are stored without
 * a NUL (decoded values carry their length); list items with theirs, since
 * the rules read them as C strings. */
#include "pipeline/facts.h"

#include <string.h>

int ag_facts_encode(const struct ag_rules_value *values, int n, enum ag_action base,
                    struct ag_buf *out)
{
    uint8_t head[2] = {1, (uint8_t)base};
    int rc = ag_buf_append(out, head, 2);
    for (int id = 0; id < n && id < 256 && !rc; id++) {
        const struct ag_rules_value *v = &values[id];
        if (v->type == AG_RULES_MISSING)
            continue;
        uint8_t tag[2] = {(uint8_t)id, (uint8_t)v->type};
        rc |= ag_buf_append(out, tag, 2);
        switch (v->type) {
        case AG_RULES_BOOL: {
            uint8_t b = v->b;
            rc |= ag_buf_append(out, &b, 1);
            break;
        }
        case AG_RULES_NUMBER:
            rc |= ag_buf_append(out, &v->num, 8);
            break;
        case AG_RULES_STRING: {
            uint16_t len = (uint16_t)(v->str.len > 65535 ? 65535 : v->str.len);
            rc |= ag_buf_append(out, &len, 2) || ag_buf_append(out, v->str.ptr, len);
            break;
        }
        case AG_RULES_STRLIST: {
            uint8_t cnt = (uint8_t)(v->list.n > 255 ? 255 : v->list.n);
            rc |= ag_buf_append(out, &cnt, 1);
            for (int k = 0; k < cnt; k++) {
                size_t l = strlen(v->list.items[k]);
                uint16_t len = (uint16_t)(l > 65534 ? 65535 : l + 1); /* with its NUL */
                rc |= ag_buf_append(out, &len, 2) || ag_buf_append(out, v->list.items[k], len - 1) ||
                      ag_buf_append(out, "", 1);
            }
            break;
        }
        default:
            break;
        }
    }
    return rc ? AG_ENOMEM : 0;
}

int ag_facts_decode(const void *blob, size_t len, struct ag_rules_value *values, int n,
                    enum ag_action *base, const char **scratch, int nscratch)
{
    const uint8_t *p = blob, *end = p + len;
    memset(values, 0, (size_t)n * sizeof *values);
    if (len < 2 || p[0] != 1 || p[1] > AG_ACTION_DENY)
        return AG_EINVAL;
    *base = (enum ag_action)p[1];
    p += 2;
    int used = 0;
    while (p < end) {
        if (end - p < 2)
            return AG_EINVAL;
        int id = p[0], type = p[1];
        p += 2;
        struct ag_rules_value v = {.type = (enum ag_rules_type)type};
        switch (type) {
        case AG_RULES_BOOL:
            if (end - p < 1)
                return AG_EINVAL;
            v.b = *p++ != 0;
            break;
        case AG_RULES_NUMBER:
            if (end - p < 8)
                return AG_EINVAL;
            memcpy(&v.num, p, 8);
            p += 8;
            break;
        case AG_RULES_STRING: {
            uint16_t l;
            if (end - p < 2)
                return AG_EINVAL;
            memcpy(&l, p, 2);
            p += 2;
            if (end - p < l)
                return AG_EINVAL;
            v.str.ptr = (const char *)p;
            v.str.len = l;
            p += l;
            break;
        }
        case AG_RULES_STRLIST: {
            if (end - p < 1)
                return AG_EINVAL;
            int cnt = *p++;
            if (used + cnt > nscratch)
                return AG_EINVAL;
            v.list.items = &scratch[used];
            v.list.n = (size_t)cnt;
            for (int k = 0; k < cnt; k++) {
                uint16_t l;
                if (end - p < 2)
                    return AG_EINVAL;
                memcpy(&l, p, 2);
                p += 2;
                /* List items are stored with their NUL: they are C strings. */
                if (l == 0 || end - p < l || p[l - 1] != '\0')
                    return AG_EINVAL;
                scratch[used++] = (const char *)p;
                p += l;
            }
            break;
        }
        default:
            return AG_EINVAL;
        }
        if (id < n)
            values[id] = v;
    }
    return 0;
}
